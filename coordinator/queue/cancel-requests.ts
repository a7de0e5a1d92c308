import { QueueEvents, QueueEventsProducer } from 'bullmq';

/**
 * Cancel requests for running builds travel as a custom event on BullMQ's own event stream, so that
 * every coordinator hears them and the one running the job aborts it. The event is only the fast path:
 * the cancel is also written into the job's data first, which a coordinator reads when it (re)starts it.
 */
export const CANCEL_EVENT = 'dockyard-cancel';

export async function publishCancel(producer: QueueEventsProducer, jobId: string): Promise<void> {
  await producer.publishEvent({ eventName: CANCEL_EVENT, jobId });
}

/** Calls `onCancel(jobId)` for every cancel request published from now on. */
export function onCancelRequest(events: QueueEvents, onCancel: (jobId: string) => void): void {
  // Custom event names are not in QueueEvents' typed listener map.
  (events as unknown as NodeJS.EventEmitter).on(CANCEL_EVENT, (args: { jobId?: unknown }) => {
    if (typeof args.jobId === 'string') onCancel(args.jobId);
  });
}
