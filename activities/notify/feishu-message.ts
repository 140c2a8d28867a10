// How a Feishu message is built: an interactive card (msg_type "interactive") with the outcome as
// the header colour, the facts as short fields, the excerpt as plain text, and a button to the
// Temporal Web UI. Plain text (not lark_md) for everything that came from Codex or the prompt, so
// nothing in it can render as a mention (<at id=all>) or a link.
import { createHash } from 'node:crypto';
import type { ApprovalDecision, TaskStatus } from '../../src/contract/task';
import type { NotificationMessage } from './notifier';

/** Feishu's uuid (≤ 50 chars) de-duplicates sends for an hour: derived from the key, never random. */
export function feishuUuid(idempotencyKey: string): string {
  return `cb-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

export interface FeishuCreateMessage {
  receive_id: string;
  msg_type: 'interactive';
  content: string;
  uuid: string;
}

export function buildFeishuMessage(
  chatId: string,
  message: NotificationMessage,
  idempotencyKey: string,
): FeishuCreateMessage {
  return {
    receive_id: chatId,
    msg_type: 'interactive',
    content: JSON.stringify(buildCard(message)),
    uuid: feishuUuid(idempotencyKey),
  };
}

export function buildCard(message: NotificationMessage): Record<string, unknown> {
  const elements: Record<string, unknown>[] = [];
  if (message.fields.length > 0) {
    elements.push({
      tag: 'div',
      fields: message.fields.map((f) => ({
        is_short: true,
        text: { tag: 'plain_text', content: `${f.label}: ${f.value}` },
      })),
    });
    elements.push({ tag: 'hr' });
  }
  elements.push({ tag: 'div', text: { tag: 'plain_text', content: message.excerpt ?? message.text } });
  if (message.approval) elements.push(approvalButtons(message.taskId, message.approval.requestId));
  if (message.question)
    elements.push(optionButtons(message.taskId, message.question.requestId, message.question.options));
  if (message.url) {
    elements.push({
      tag: 'action',
      actions: [
        {
          tag: 'button',
          text: { tag: 'plain_text', content: 'Open in Temporal Web UI' },
          type: 'primary',
          url: message.url,
        },
      ],
    });
  }
  return {
    // update_multi: a card can be edited in place only when it declared so when it was sent.
    config: { wide_screen_mode: true, update_multi: true },
    header: { template: headerColour(message), title: { tag: 'plain_text', content: message.title } },
    elements,
  };
}

const STATUS_COLOURS: Record<TaskStatus, string> = {
  completed: 'green',
  failed: 'red',
  cancelled: 'grey',
  timed_out: 'orange',
  queued: 'blue',
  running: 'blue',
  waiting_for_input: 'yellow',
  waiting_for_quota: 'orange',
};

function headerColour(message: NotificationMessage): string {
  if (message.kind === 'request') return 'yellow';
  if (message.kind === 'request_expired') return 'grey';
  return message.status ? STATUS_COLOURS[message.status] : 'blue';
}

/** What a card button carries back in its callback: the same answer `codex-bridge approve` sends. */
export interface ApprovalButtonValue {
  task_id: string;
  request_id: string;
  decision: ApprovalDecision;
}

const DECISION_BUTTONS: { decision: ApprovalDecision; label: string; type: string }[] = [
  { decision: 'accept', label: 'Accept', type: 'primary' },
  { decision: 'accept_for_session', label: 'Accept for the session', type: 'default' },
  { decision: 'decline', label: 'Decline', type: 'default' },
  { decision: 'cancel', label: 'Cancel the task', type: 'danger' },
];

function approvalButtons(taskId: string, requestId: string): Record<string, unknown> {
  return {
    tag: 'action',
    actions: DECISION_BUTTONS.map(({ decision, label, type }) => ({
      tag: 'button',
      text: { tag: 'plain_text', content: label },
      type,
      value: { task_id: taskId, request_id: requestId, decision } satisfies ApprovalButtonValue,
    })),
  };
}

/** What a question's option button carries back: the answer `codex-bridge answer` would send. */
export interface OptionButtonValue {
  task_id: string;
  request_id: string;
  question_id: string;
  answer: string;
}

function optionButtons(
  taskId: string,
  requestId: string,
  options: { questionId: string; label: string }[],
): Record<string, unknown> {
  return {
    tag: 'action',
    actions: options.slice(0, 20).map(({ questionId, label }) => ({
      tag: 'button',
      text: { tag: 'plain_text', content: label },
      type: 'default',
      value: {
        task_id: taskId,
        request_id: requestId,
        question_id: questionId,
        answer: label,
      } satisfies OptionButtonValue,
    })),
  };
}

/** The card after a click: who answered what, or why the click changed nothing. */
export function answeredCard(
  title: string,
  lines: string[],
  template: 'green' | 'grey' | 'red',
): Record<string, unknown> {
  return {
    config: { wide_screen_mode: true, update_multi: true },
    header: { template, title: { tag: 'plain_text', content: title } },
    elements: [{ tag: 'div', text: { tag: 'plain_text', content: lines.join('\n') } }],
  };
}
