// The custom Keyword search attributes: `temporal workflow list --query 'NotificationStatus="failed"'`
// and the Web UI's filters use them. The dev server and docker-compose register them.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CodexTaskStatusKey = defineSearchAttributeKey('CodexTaskStatus', SearchAttributeType.KEYWORD);
export const NotificationStatusKey = defineSearchAttributeKey('NotificationStatus', SearchAttributeType.KEYWORD);
export const NotifyTargetKey = defineSearchAttributeKey('NotifyTarget', SearchAttributeType.KEYWORD);
