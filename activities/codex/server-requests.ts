// The app-server's requests (approvals, questions) in the task's words, and back: what kind a
// request is, a one-line summary a person can decide on, the policy's answer, and the protocol's
// answer.
import type { ApprovalDecision, PendingRequestKind, QuestionOption, RequestAnswer } from '../../src/contract/task';
import type { HandledServerRequest, ServerRequest, ServerRequestResults, ThreadItem } from './app-server-methods';
import type { ServerRequestPolicy } from '../../src/contract/codex-turn';

const KIND_BY_METHOD: Record<HandledServerRequest['method'], PendingRequestKind> = {
  'item/commandExecution/requestApproval': 'command_approval',
  'item/fileChange/requestApproval': 'file_change_approval',
  'item/permissions/requestApproval': 'permissions_approval',
  'item/tool/requestUserInput': 'user_input',
};

export function isHandledServerRequest(request: ServerRequest): request is HandledServerRequest {
  return request.method in KIND_BY_METHOD;
}

export function requestKind(request: HandledServerRequest): PendingRequestKind {
  return KIND_BY_METHOD[request.method];
}

/**
 * One line a person can decide on. File-change approvals carry no paths, so the summary looks the
 * item up among the turn's started items (`item/started` precedes the approval request).
 */
export function summarizeRequest(
  request: HandledServerRequest,
  startedItem: (id: string) => ThreadItem | undefined,
): string {
  switch (request.method) {
    case 'item/commandExecution/requestApproval': {
      const p = request.params;
      const command = p.command ?? p.commandActions?.map((a) => a.command).join(' && ') ?? 'a command';
      return withReason(`Run \`${command}\`${p.cwd ? ` in ${p.cwd}` : ''}`, p.reason);
    }
    case 'item/fileChange/requestApproval': {
      const p = request.params;
      const item = startedItem(p.itemId);
      const paths = item?.type === 'fileChange' ? item.changes.map((c) => `${c.kind.type} ${c.path}`) : [];
      return withReason(
        paths.length > 0 ? `Apply changes: ${paths.join(', ')}` : 'Apply file changes',
        p.reason ?? p.grantRoot,
      );
    }
    case 'item/permissions/requestApproval': {
      const p = request.params;
      const wanted = [
        p.permissions.network ? `network ${JSON.stringify(p.permissions.network)}` : '',
        p.permissions.fileSystem ? `file system ${JSON.stringify(p.permissions.fileSystem)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return withReason(`Grant ${wanted || 'extra permissions'}`, p.reason);
    }
    case 'item/tool/requestUserInput':
      return request.params.questions
        .map((q) => `${q.question}${q.options?.length ? ` [${q.options.map((o) => o.label).join(' / ')}]` : ''}`)
        .join(' · ');
  }
}

/** The choices of a question with options (none for approvals and free-text questions). */
export function questionOptions(request: HandledServerRequest): QuestionOption[] {
  if (request.method !== 'item/tool/requestUserInput') return [];
  return request.params.questions.flatMap((q) => (q.options ?? []).map((o) => ({ question_id: q.id, label: o.label })));
}

/** Several lines a person can decide on (the summary's long form). */
export function describeRequest(
  request: HandledServerRequest,
  startedItem: (id: string) => ThreadItem | undefined,
): string {
  const lines: string[] = [];
  switch (request.method) {
    case 'item/commandExecution/requestApproval': {
      const p = request.params;
      lines.push(`Command: ${p.command ?? p.commandActions?.map((a) => a.command).join(' && ') ?? '(not given)'}`);
      if (p.cwd) lines.push(`Working directory: ${p.cwd}`);
      if (p.networkApprovalContext) lines.push(`Network: ${JSON.stringify(p.networkApprovalContext)}`);
      if (p.reason) lines.push(`Reason: ${p.reason}`);
      break;
    }
    case 'item/fileChange/requestApproval': {
      const p = request.params;
      const item = startedItem(p.itemId);
      for (const change of item?.type === 'fileChange' ? item.changes : []) {
        lines.push(`${change.kind.type} ${change.path}`, excerpt(change.diff, 1500));
      }
      if (p.grantRoot) lines.push(`Asks to write under: ${p.grantRoot}`);
      if (p.reason) lines.push(`Reason: ${p.reason}`);
      break;
    }
    case 'item/permissions/requestApproval': {
      const p = request.params;
      lines.push(`Permissions: ${JSON.stringify(p.permissions)}`, `Working directory: ${p.cwd}`);
      if (p.reason) lines.push(`Reason: ${p.reason}`);
      break;
    }
    case 'item/tool/requestUserInput':
      for (const q of request.params.questions) {
        lines.push(`[${q.id}] ${q.header ? `${q.header}: ` : ''}${q.question}${q.isSecret ? ' (secret)' : ''}`);
        for (const option of q.options ?? [])
          lines.push(`  - ${option.label}${option.description ? `: ${option.description}` : ''}`);
        if (q.isOther) lines.push('  - (any other answer)');
      }
      break;
  }
  return lines.join('\n');
}

/** The answer a policy gives without asking anyone. */
export function policyAnswer(policy: ServerRequestPolicy, request: HandledServerRequest): RequestAnswer {
  const accept = policy === 'accept';
  if (request.method === 'item/tool/requestUserInput') {
    const answers: Record<string, string[]> = {};
    if (accept) for (const q of request.params.questions) if (q.options?.length) answers[q.id] = [q.options[0]!.label];
    return { answers, answered_by: 'policy' };
  }
  return { decision: accept ? 'accept' : 'decline', answered_by: 'policy' };
}

const PROTOCOL_DECISIONS = {
  accept: 'accept',
  accept_for_session: 'acceptForSession',
  decline: 'decline',
  cancel: 'cancel',
} as const satisfies Record<ApprovalDecision, string>;

/** The protocol's answer. A mismatched answer (answers to an approval…) counts as decline. */
export function protocolAnswer<R extends HandledServerRequest>(
  request: R,
  answer: RequestAnswer,
): ServerRequestResults[R['method']] {
  const decision: ApprovalDecision = 'decision' in answer ? answer.decision : 'decline';
  switch (request.method) {
    case 'item/commandExecution/requestApproval':
    case 'item/fileChange/requestApproval':
      return { decision: PROTOCOL_DECISIONS[decision] } as ServerRequestResults[R['method']];
    case 'item/permissions/requestApproval': {
      if (decision === 'accept' || decision === 'accept_for_session') {
        const { network, fileSystem } = request.params.permissions;
        return {
          permissions: { ...(network ? { network } : {}), ...(fileSystem ? { fileSystem } : {}) },
          scope: decision === 'accept' ? 'turn' : 'session',
        } as ServerRequestResults[R['method']];
      }
      return { permissions: {}, scope: 'turn' } as ServerRequestResults[R['method']];
    }
    case 'item/tool/requestUserInput': {
      const given = 'answers' in answer ? answer.answers : {};
      const answers = Object.fromEntries(Object.entries(given).map(([id, list]) => [id, { answers: list }]));
      return { answers } as ServerRequestResults[R['method']];
    }
  }
  throw new Error(`unhandled server request ${(request as ServerRequest).method}`);
}

/** How the answer reads in a RequestRecord. */
export function describeAnswer(answer: RequestAnswer): string {
  return 'decision' in answer ? answer.decision : JSON.stringify(answer.answers);
}

function excerpt(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n…[${text.length - limit} more characters]`;
}

function withReason(text: string, reason: string | null | undefined): string {
  return reason ? `${text} (${reason})` : text;
}
