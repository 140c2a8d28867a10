// The NotifyError a notifier call rejects with (the test fails if it resolves or throws anything else).
import { NotifyError } from '../../../activities/notify/notifier';

export async function notifyFailure(call: Promise<unknown>): Promise<NotifyError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifyError);
  return err as NotifyError;
}
