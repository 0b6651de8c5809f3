/** The scheduler in front of the upstream (README "How the scheduler decides"); see scheduler.ts and demand.ts. */
export {
  type CallContext,
  currentContext,
  type Demand,
  mostUrgent,
  PRIORITIES,
  PRIORITY_RANK,
  type Priority,
  type ReadMode,
  withAdmitted,
  withDemand,
} from './demand.ts';
export {
  type BlockCause,
  type Decision,
  GRANTED,
  type SchedulerObserver,
  type SchedulerOptions,
  type SchedulerStats,
  slotTime,
  Ticket,
  UpstreamScheduler,
} from './scheduler.ts';
