using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tessera.Engine;
using Tessera.Serving.Http;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Inference;

/// <summary>
/// What an inference request that threw tells its client and the metrics: one classification for every front door,
/// which then speaks it as an HTTP status or a gRPC status. <see cref="StatusCode"/> is an HTTP status.
/// </summary>
internal readonly record struct RequestFailure(RequestOutcome Outcome, int StatusCode, string Message)
{
    /// <summary>Status of a request whose client went away; nobody reads the answer.</summary>
    public const int ClientClosedRequest = 499;

    public static RequestFailure From(Exception exception, string model, ILogger logger, CancellationToken aborted)
    {
        switch (exception)
        {
            case ServingException e:
                logger.RequestRejected(model, e.StatusCode, e.Message);
                return new RequestFailure(OutcomeOf(e.StatusCode), e.StatusCode, e.Message);
            case InferenceException e:
                // The engine refused the inputs (e.g. dimensions that disagree inside the graph): the client's mistake.
                logger.RequestRejected(model, 400, e.Message);
                return new RequestFailure(RequestOutcome.BadRequest, 400, e.Message);
            case OperationCanceledException or IOException when aborted.IsCancellationRequested:
                logger.ClientGone(model);
                return new RequestFailure(RequestOutcome.Cancelled, ClientClosedRequest, "the client went away");
            case BadHttpRequestException e:
                return new RequestFailure(RequestOutcome.BadRequest, e.StatusCode, e.Message);
            default:
                logger.RequestFailed(model, exception);
                return new RequestFailure(RequestOutcome.Error, 500, $"internal error: {exception.Message}");
        }
    }

    private static RequestOutcome OutcomeOf(int status) => status switch
    {
        503 => RequestOutcome.Rejected,
        504 => RequestOutcome.Timeout,
        >= 500 => RequestOutcome.Error,
        _ => RequestOutcome.BadRequest,
    };
}
