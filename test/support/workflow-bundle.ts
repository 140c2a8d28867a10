// The task workflow bundled for a worker, built by callers once per process (bundling takes seconds;
// a worker given the bundle starts at once).
export { bundleTaskWorkflows } from '../../src/workflow-bundle';
