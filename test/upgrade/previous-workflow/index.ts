// The bundle entry of the previous task workflow (see task-workflow.ts).
export { codexTaskWorkflow } from './task-workflow';
