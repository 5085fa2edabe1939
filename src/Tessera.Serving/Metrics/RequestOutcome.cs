namespace Tessera.Serving.Metrics;

/// <summary>How an inference request ended; the "outcome" label of tessera_requests_total.</summary>
internal enum RequestOutcome
{
    Success = 0,
    BadRequest = 1,
    Rejected = 2,
    Timeout = 3,
    Cancelled = 4,
    Error = 5,
}
