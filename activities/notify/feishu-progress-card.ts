// The card a Feishu chat shows while a turn runs: what Codex is doing now, the plan, the commands
// it ran, the files it changed and the tokens used so far. Built from the turn's progress events;
// kept well under Feishu's 30 KB card limit by showing only the latest lines.
import type { TurnEventDraft } from '../codex/turn-events';

export interface TurnProgress {
  taskId: string;
  turn: number;
  current: string | null;
  plan: string | null;
  commands: string[];
  files: string[];
  tokens: string | null;
  events: number;
}

const SHOWN = 8;
const LINE = 200;

export function emptyProgress(taskId: string, turn: number): TurnProgress {
  return { taskId, turn, current: null, plan: null, commands: [], files: [], tokens: null, events: 0 };
}

/** The progress after one more event. */
export function withEvent(p: TurnProgress, event: TurnEventDraft): TurnProgress {
  const next = { ...p, events: p.events + 1 };
  switch (event.kind) {
    case 'item_started':
      return { ...next, current: event.text };
    case 'item_completed':
      if (event.item_type === 'commandExecution')
        return { ...next, current: null, commands: latest([...p.commands, event.text]) };
      if (event.item_type === 'fileChange') return { ...next, current: null, files: latest([...p.files, event.text]) };
      return { ...next, current: p.current };
    case 'plan_updated':
      return { ...next, plan: event.text };
    case 'tokens':
      return { ...next, tokens: event.text };
    case 'reply_steered':
      return { ...next, current: event.text };
    default:
      return next;
  }
}

export function buildProgressCard(p: TurnProgress): Record<string, unknown> {
  const lines = [
    `Now: ${p.current ?? 'thinking'}`,
    ...(p.plan ? [p.plan] : []),
    ...(p.commands.length ? ['Commands:', ...p.commands] : []),
    ...(p.files.length ? ['Files:', ...p.files] : []),
    ...(p.tokens ? [p.tokens] : []),
  ].map((l) => (l.length > LINE ? `${l.slice(0, LINE - 1)}…` : l));
  return {
    // update_multi: the card is edited in place, and ends as the turn's result card.
    config: { wide_screen_mode: true, update_multi: true },
    header: {
      template: 'blue',
      title: { tag: 'plain_text', content: `⏳ Codex task ${p.taskId} · turn ${p.turn} running` },
    },
    elements: [{ tag: 'div', text: { tag: 'plain_text', content: lines.join('\n') } }],
  };
}

function latest(lines: string[]): string[] {
  return lines.slice(-SHOWN);
}
