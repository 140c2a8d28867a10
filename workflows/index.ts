// The worker's workflow bundle entry: workflow functions only (deterministic code).
export { codexTask, codexTaskWorkflow } from './task-workflow';
export { scheduledTaskWorkflow } from './scheduled-task-workflow';
export { admissionWorkflow } from './admission-workflow';
