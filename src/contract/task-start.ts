// How a task workflow is presented when it starts, whoever starts it (the client service, or a
// schedule's starter workflow): its search attributes and the Web UI's summary and details.
import type { SearchAttributePair } from '@temporalio/common';
import { describeNotifyTarget } from './notify-target';
import { CodexTaskStatusKey, NotificationStatusKey, NotifyTargetKey } from './search-attributes';
import type { TaskDocument } from './task';
import { oneLine } from './text';

export interface TaskStartView {
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
  staticDetails: string;
}

export function taskStartView(task: TaskDocument, prompt: string): TaskStartView {
  const target = task.notify_target ? describeNotifyTarget(task.notify_target) : null;
  return {
    typedSearchAttributes: [
      { key: CodexTaskStatusKey, value: task.status },
      { key: NotificationStatusKey, value: 'none' },
      { key: NotifyTargetKey, value: target ?? 'none' },
    ],
    staticSummary: `Codex: ${oneLine(prompt, 120)}`,
    staticDetails: [
      `**Prompt:** ${oneLine(prompt, 1000)}`,
      `**Working directory:** ${task.cwd}`,
      `**Sandbox:** ${task.sandbox} · **Approval policy:** ${task.approval_policy}${task.model ? ` · **Model:** ${task.model}` : ''}`,
      `**Notify:** ${target ?? 'nobody (no target)'}`,
      `**Turn:** ${task.turns.length + 1}`,
    ].join('\n\n'),
  };
}
