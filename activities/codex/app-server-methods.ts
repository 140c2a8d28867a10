// The part of the `codex app-server` protocol codex-bridge speaks, typed from the vendored generated
// files (./protocol, see its README). Hand-written code imports protocol types from here only.
import type { InitializeParams } from './protocol/InitializeParams';
import type { InitializeResponse } from './protocol/InitializeResponse';
import type { RequestId } from './protocol/RequestId';
import type { ServerNotification } from './protocol/ServerNotification';
import type { ServerRequest } from './protocol/ServerRequest';
import type { CommandExecutionRequestApprovalResponse } from './protocol/v2/CommandExecutionRequestApprovalResponse';
import type { FileChangeRequestApprovalResponse } from './protocol/v2/FileChangeRequestApprovalResponse';
import type { PermissionsRequestApprovalResponse } from './protocol/v2/PermissionsRequestApprovalResponse';
import type { ThreadResumeParams } from './protocol/v2/ThreadResumeParams';
import type { ThreadResumeResponse } from './protocol/v2/ThreadResumeResponse';
import type { ThreadStartParams } from './protocol/v2/ThreadStartParams';
import type { ThreadStartResponse } from './protocol/v2/ThreadStartResponse';
import type { ToolRequestUserInputResponse } from './protocol/v2/ToolRequestUserInputResponse';
import type { TurnInterruptParams } from './protocol/v2/TurnInterruptParams';
import type { TurnInterruptResponse } from './protocol/v2/TurnInterruptResponse';
import type { TurnStartParams } from './protocol/v2/TurnStartParams';
import type { TurnSteerParams } from './protocol/v2/TurnSteerParams';
import type { TurnSteerResponse } from './protocol/v2/TurnSteerResponse';
import type { TurnStartResponse } from './protocol/v2/TurnStartResponse';

export type { RequestId, ServerNotification, ServerRequest };
export type { ThreadItem } from './protocol/v2/ThreadItem';
export type { TurnError } from './protocol/v2/TurnError';
export type { TokenUsageBreakdown } from './protocol/v2/TokenUsageBreakdown';
export type { CodexErrorInfo } from './protocol/v2/CodexErrorInfo';

/** Requests the client sends, by method: what goes in, what comes back. */
export interface ClientRequests {
  initialize: { params: InitializeParams; result: InitializeResponse };
  'thread/start': { params: ThreadStartParams; result: ThreadStartResponse };
  'thread/resume': { params: ThreadResumeParams; result: ThreadResumeResponse };
  'turn/start': { params: TurnStartParams; result: TurnStartResponse };
  'turn/interrupt': { params: TurnInterruptParams; result: TurnInterruptResponse };
  'turn/steer': { params: TurnSteerParams; result: TurnSteerResponse };
}
export type ClientMethod = keyof ClientRequests;

/** Notifications the client sends (no reply). */
export type ClientNotificationMethod = 'initialized';

export type NotificationMethod = ServerNotification['method'];

export type ServerRequestMethod = ServerRequest['method'];
export type ServerRequestOf<M extends ServerRequestMethod> = Extract<ServerRequest, { method: M }>;

/** The answers codex-bridge gives to the server requests it handles. */
export interface ServerRequestResults {
  'item/commandExecution/requestApproval': CommandExecutionRequestApprovalResponse;
  'item/fileChange/requestApproval': FileChangeRequestApprovalResponse;
  'item/permissions/requestApproval': PermissionsRequestApprovalResponse;
  'item/tool/requestUserInput': ToolRequestUserInputResponse;
}
export type HandledServerRequest = ServerRequestOf<keyof ServerRequestResults>;

/** Streaming deltas we never read: opting out keeps the pipe quiet on long turns. */
export const IGNORED_NOTIFICATIONS: NotificationMethod[] = [
  'item/agentMessage/delta',
  'item/plan/delta',
  'item/reasoning/summaryTextDelta',
  'item/reasoning/summaryPartAdded',
  'item/reasoning/textDelta',
  'item/commandExecution/outputDelta',
  'item/fileChange/outputDelta',
  'command/exec/outputDelta',
  'process/outputDelta',
];
