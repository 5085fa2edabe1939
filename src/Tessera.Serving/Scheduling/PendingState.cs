namespace Tessera.Serving.Scheduling;

internal enum PendingState
{
    Queued = 0,
    Taken = 1,

    /// <summary>The client went away or its timeout passed while it was queued: the request is skipped, never run.</summary>
    Abandoned = 2,
}
