// Card button clicks over Feishu's long connection: the Lark SDK's WSClient dials out to Feishu
// (no public callback URL needed) and hands each `card.action.trigger` to an event dispatcher,
// which answers it exactly as the HTTP callback route does (feishu-card-callback.ts).
import { EventDispatcher, LoggerLevel, WSClient } from '@larksuiteoapi/node-sdk';
import type { TaskServiceApi } from '../client/task-service-types';
import { answerCardAction } from './feishu-card-callback';

export interface FeishuCardConnectionOptions {
  appId: string;
  appSecret: string;
  /** FEISHU_BASE_URL (the long connection's address is asked for there). */
  baseUrl: string;
  service: TaskServiceApi;
  logger?: {
    error(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    info(...args: unknown[]): void;
    debug(...args: unknown[]): void;
    trace(...args: unknown[]): void;
  };
}

export function startFeishuCardConnection(options: FeishuCardConnectionOptions): { close(): void } {
  const logger = options.logger ?? {
    error: () => {},
    warn: () => {},
    info: () => {},
    debug: () => {},
    trace: () => {},
  };
  const dispatcher = new EventDispatcher({ logger, loggerLevel: LoggerLevel.warn }).register({
    'card.action.trigger': (data: Parameters<typeof answerCardAction>[1]) => answerCardAction(options.service, data),
  });
  const client = new WSClient({
    appId: options.appId,
    appSecret: options.appSecret,
    domain: options.baseUrl,
    logger,
    loggerLevel: LoggerLevel.warn,
    source: 'codex-bridge',
  });
  void client.start({ eventDispatcher: dispatcher });
  return { close: () => client.close() };
}
