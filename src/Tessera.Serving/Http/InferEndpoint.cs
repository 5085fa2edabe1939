using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tessera.Engine;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;

namespace Tessera.Serving.Http;

/// <summary>
/// POST /v2/models/{name}[/versions/{version}]/infer: read and validate the request, queue it on the model's
/// scheduler, wait for its result (bounded by its timeout and by the client staying connected), write the response.
/// </summary>
internal sealed partial class InferEndpoint
{
    /// <summary>Request header with a timeout in milliseconds, for clients that cannot set the "timeout" parameter.</summary>
    public const string TimeoutHeader = "Tessera-Timeout-Ms";

    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    private readonly MetadataEndpoints _metadata;
    private readonly ServerOptions _options;
    private readonly ILogger _logger;

    public InferEndpoint(MetadataEndpoints metadata, ServerOptions options, ILogger logger)
    {
        _metadata = metadata;
        _options = options;
        _logger = logger;
    }

    public async Task InferAsync(HttpContext context)
    {
        long start = Stopwatch.GetTimestamp();
        var model = _metadata.Find(context); // 404 for unknown models and versions, before the body is read
        var metrics = model.Metrics;
        var outcome = RequestOutcome.Error;
        try
        {
            outcome = await InferCoreAsync(context, model).ConfigureAwait(false);
        }
        catch (ServingException e)
        {
            outcome = e.StatusCode switch { 503 => RequestOutcome.Rejected, 504 => RequestOutcome.Timeout, >= 500 => RequestOutcome.Error, _ => RequestOutcome.BadRequest };
            _logger.RequestRejected(model.Name, e.StatusCode, e.Message);
            if (e.StatusCode == 503)
            {
                context.Response.Headers.RetryAfter = "1";
            }

            await ErrorResponse.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (InferenceException e)
        {
            // The engine refused the inputs (e.g. dimensions that disagree inside the graph): the client's mistake.
            outcome = RequestOutcome.BadRequest;
            _logger.RequestRejected(model.Name, 400, e.Message);
            await ErrorResponse.WriteAsync(context, 400, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            outcome = RequestOutcome.Cancelled;
            _logger.ClientGone(model.Name);
        }
        catch (BadHttpRequestException e)
        {
            outcome = RequestOutcome.BadRequest;
            await ErrorResponse.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.RequestFailed(model.Name, e);
            await ErrorResponse.WriteAsync(context, 500, $"internal error: {e.Message}").ConfigureAwait(false);
        }
        finally
        {
            metrics.Count(outcome);
            metrics.RequestSeconds.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    private async Task<RequestOutcome> InferCoreAsync(HttpContext context, ServedModel model)
    {
        var aborted = context.RequestAborted;
        var request = await ReadRequestAsync(context, aborted).ConfigureAwait(false);
        model.Signature.Validate(request);
        var scheduler = model.Scheduler;
        var options = scheduler.Options;

        int priority = request.Priority == 0 ? options.DefaultPriority : request.Priority;
        if (priority > options.PriorityLevels)
        {
            throw ServingException.BadRequest($"priority {request.Priority} is out of range: model '{model.Name}' has levels 1 (highest) to {options.PriorityLevels}");
        }

        var pending = new PendingRequest(request.Inputs, scheduler.RowsOf(request.Inputs), priority - 1);
        long timeoutUs = TimeoutMicroseconds(context, request, options);
        if (!scheduler.TryEnqueue(pending))
        {
            throw new ServingException(503, $"model '{model.Name}' has {options.MaxQueueSize} requests queued, its limit; retry later");
        }

        using var timeout = timeoutUs > 0 ? CancellationTokenSource.CreateLinkedTokenSource(aborted) : null;
        timeout?.CancelAfter(TimeSpan.FromMicroseconds(timeoutUs));
        var token = timeout?.Token ?? aborted;
        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = await pending.Completion.Task.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            bool dropped = scheduler.TryAbandon(pending);
            aborted.ThrowIfCancellationRequested();
            throw new ServingException(504, string.Create(CultureInfo.InvariantCulture,
                $"the request timed out after {timeoutUs / 1000.0:0.###} ms {(dropped ? "in the queue; it was not run" : "while running")}"));
        }

        await WriteResponseAsync(context, model, request, outputs).ConfigureAwait(false);
        return RequestOutcome.Success;
    }

    private async Task<InferenceRequest> ReadRequestAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var (body, length) = await RequestBody.ReadAsync(context.Request, _options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            int headerLength = length;
            if (context.Request.Headers.TryGetValue(HeaderLengthHeader, out var value))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out headerLength) || headerLength > length)
                {
                    throw ServingException.BadRequest($"{HeaderLengthHeader} '{value}' must be a byte count no larger than the body ({length} bytes)");
                }
            }

            return InferRequestReader.Read(body.AsSpan(0, headerLength), body.AsSpan(headerLength, length - headerLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static long TimeoutMicroseconds(HttpContext context, InferenceRequest request, SchedulerOptions options)
    {
        if (request.TimeoutMicroseconds > 0)
        {
            return request.TimeoutMicroseconds;
        }

        if (context.Request.Headers.TryGetValue(TimeoutHeader, out var value))
        {
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) || ms <= 0 || ms * 1000 > InferRequestReader.MaxTimeoutMicroseconds)
            {
                throw ServingException.BadRequest($"{TimeoutHeader} '{value}' must be a positive number of milliseconds");
            }

            return (long)Math.Ceiling(ms * 1000);
        }

        return options.DefaultTimeoutMicroseconds;
    }
}
