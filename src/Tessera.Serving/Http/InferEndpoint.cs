using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Inference;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Http;

/// <summary>
/// POST /v2/models/{name}[/versions/{version}]/infer: read the request, run it with <see cref="InferenceRunner"/>
/// (bounded by its timeout and by the client staying connected), write the response.
/// </summary>
internal sealed partial class InferEndpoint
{
    /// <summary>Request header with a timeout in milliseconds, for clients that cannot set the "timeout" parameter.</summary>
    public const string TimeoutHeader = "Tessera-Timeout-Ms";

    private readonly MetadataEndpoints _metadata;
    private readonly ServerOptions _options;
    private readonly RequestBufferPool _buffers;
    private readonly ILogger _logger;

    public InferEndpoint(MetadataEndpoints metadata, ServerOptions options, RequestBufferPool buffers, ILogger logger)
    {
        _metadata = metadata;
        _options = options;
        _buffers = buffers;
        _logger = logger;
    }

    public async Task InferAsync(HttpContext context)
    {
        long start = Stopwatch.GetTimestamp();
        using var use = _metadata.Enter(context); // 404 for unknown models and versions, before the body is read
        var model = use.Model;
        var outcome = RequestOutcome.Error;
        try
        {
            var aborted = context.RequestAborted;
            var (request, body) = await ReadRequestAsync(context, aborted).ConfigureAwait(false);
            using (body) // binary inputs are tensors over the body: it goes back to the pool once the answer is written
            {
                var outputs = await InferenceRunner.RunAsync(model, request, TimeoutMicroseconds(context), aborted).ConfigureAwait(false);
                await WriteResponseAsync(context, model, request, InferenceRunner.SelectOutputs(model, request, outputs)).ConfigureAwait(false);
            }

            outcome = RequestOutcome.Success;
        }
        catch (Exception e)
        {
            var failure = RequestFailure.From(e, model.Name, _logger, context.RequestAborted);
            outcome = failure.Outcome;
            if (failure.Outcome != RequestOutcome.Cancelled)
            {
                if (failure.StatusCode == 503)
                {
                    context.Response.Headers.RetryAfter = "1";
                }

                await ErrorResponse.WriteAsync(context, failure.StatusCode, failure.Message).ConfigureAwait(false);
            }
        }
        finally
        {
            InferenceRunner.Record(model, outcome, start);
        }
    }

    private async Task<(InferenceRequest Request, RequestBuffer Body)> ReadRequestAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, _buffers, _options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            int length = body.Length;
            string? declared = context.Request.Headers.TryGetValue(InferRequestReader.HeaderLengthHeader, out var value) ? value.ToString() : null;
            int headerLength = InferRequestReader.JsonLength(declared, length);
            return (InferRequestReader.Read(body.Span[..headerLength], body.Bytes(headerLength, length - headerLength)), body);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>The timeout header's value in µs, or 0 without one.</summary>
    private static long TimeoutMicroseconds(HttpContext context)
    {
        if (!context.Request.Headers.TryGetValue(TimeoutHeader, out var value))
        {
            return 0;
        }

        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) || ms <= 0 || ms * 1000 > InferRequestReader.MaxTimeoutMicroseconds)
        {
            throw ServingException.BadRequest($"{TimeoutHeader} '{value}' must be a positive number of milliseconds");
        }

        return (long)Math.Ceiling(ms * 1000);
    }
}
