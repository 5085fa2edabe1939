using System.Diagnostics;
using Grpc.Core;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Inference;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc;

internal sealed partial class InferenceGrpcService
{
    /// <summary>Requests of one stream that may run at once; reading the stream waits beyond that.</summary>
    public const int MaxInflightPerStream = 64;

    /// <summary>
    /// Triton's streaming inference: every request on the stream runs as soon as it arrives, and its answer is
    /// written when it is ready (so answers may come in another order; their "id" tells them apart). A failed
    /// request answers with error_message and leaves the stream open.
    /// </summary>
    public override async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
    {
        var aborted = context.CancellationToken;
        using var inflight = new SemaphoreSlim(MaxInflightPerStream);
        using var writing = new SemaphoreSlim(1);
        var running = new List<Task>();
        try
        {
            while (await requestStream.MoveNext(aborted).ConfigureAwait(false))
            {
                await inflight.WaitAsync(aborted).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(AnswerAsync(requestStream.Current));
            }
        }
        finally
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }

        async Task AnswerAsync(ModelInferRequest request)
        {
            using var blocks = Received.Release(request); // the inputs' storage, given back once the answer is written
            try
            {
                var answer = await StreamInferAsync(request, context).ConfigureAwait(false);
                await writing.WaitAsync(aborted).ConfigureAwait(false);
                try
                {
                    await responseStream.WriteAsync(answer, aborted).ConfigureAwait(false);
                }
                finally
                {
                    writing.Release();
                }
            }
            catch (Exception) when (aborted.IsCancellationRequested)
            {
                // The client closed the call; nobody reads the answer.
            }
            finally
            {
                inflight.Release();
            }
        }
    }

    private async Task<ModelStreamInferResponse> StreamInferAsync(ModelInferRequest request, ServerCallContext context)
    {
        long start = Stopwatch.GetTimestamp();
        Repository.ModelUse use;
        try
        {
            use = _models.Enter(request.ModelName, VersionOf(request.ModelVersion));
        }
        catch (ServingException e)
        {
            return Failed(request, e.Message);
        }

        var model = use.Model;
        var outcome = RequestOutcome.Error;
        try
        {
            var response = await InferAsync(model, request, context.Deadline, context.CancellationToken).ConfigureAwait(false);
            outcome = RequestOutcome.Success;
            return new ModelStreamInferResponse { InferResponse = response };
        }
        catch (Exception e)
        {
            var failure = RequestFailure.From(e, model.Name, _logger, context.CancellationToken);
            outcome = failure.Outcome;
            return Failed(request, failure.Message);
        }
        finally
        {
            InferenceRunner.Record(model, outcome, start);
            use.Dispose();
        }
    }

    private static ModelStreamInferResponse Failed(ModelInferRequest request, string message) => new()
    {
        ErrorMessage = message,
        InferResponse = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = request.ModelVersion, Id = request.Id },
    };
}
