using System.Diagnostics;
using System.Globalization;
using Tessera.Cluster.Telemetry;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;
using Tessera.Serving.Telemetry;
using Tessera.Tensors;

namespace Tessera.Serving.Inference;

/// <summary>
/// Runs one parsed request on a model, the same way for every front door (REST, gRPC, gRPC streams): the model's
/// checks, the priority, the queue, and the wait for its result bounded by its timeout and by the client staying.
/// </summary>
internal static class InferenceRunner
{
    /// <param name="transportTimeoutMicroseconds">A timeout the transport carries (a header, a gRPC deadline), used when the request's parameters give none; 0 for none.</param>
    public static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(ServedModel model, InferenceRequest request, long transportTimeoutMicroseconds, CancellationToken aborted)
    {
        using var span = ServingTelemetry.Source.StartActivity("infer");
        if (span is not null)
        {
            span.SetTag("tessera.model", model.Name);
            span.SetTag("tessera.version", model.Version);
        }

        try
        {
            model.Signature.Validate(request);
            var scheduler = model.Scheduler;
            var options = scheduler.Options;

            int priority = request.Priority == 0 ? options.DefaultPriority : request.Priority;
            if (priority > options.PriorityLevels)
            {
                throw ServingException.BadRequest($"priority {request.Priority} is out of range: model '{model.Name}' has levels 1 (highest) to {options.PriorityLevels}");
            }

            var pending = new Scheduling.PendingRequest(request.Inputs, scheduler.RowsOf(request.Inputs), priority - 1) { Trace = span?.Context ?? default };
            long timeoutUs = request.TimeoutMicroseconds > 0 ? request.TimeoutMicroseconds
                : transportTimeoutMicroseconds > 0 ? transportTimeoutMicroseconds
                : options.DefaultTimeoutMicroseconds;
            if (!scheduler.TryEnqueue(pending))
            {
                throw new ServingException(503, scheduler.Stopped
                    ? $"model '{model.Name}' version {model.Version} is being unloaded; retry later"
                    : $"model '{model.Name}' has {options.MaxQueueSize} requests queued, its limit; retry later");
            }

            using var timeout = timeoutUs > 0 ? CancellationTokenSource.CreateLinkedTokenSource(aborted) : null;
            timeout?.CancelAfter(TimeSpan.FromMicroseconds(timeoutUs));
            var token = timeout?.Token ?? aborted;
            try
            {
                return await pending.Completion.Task.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                bool dropped = scheduler.TryAbandon(pending);
                aborted.ThrowIfCancellationRequested();
                throw new ServingException(504, string.Create(CultureInfo.InvariantCulture,
                    $"the request timed out after {timeoutUs / 1000.0:0.###} ms {(dropped ? "in the queue; it was not run" : "while running")}"));
            }
        }
        catch (Exception e) when (ClusterTelemetry.Failed(span, e))
        {
            throw;
        }
    }

    /// <summary>The outputs to send back, in order: those the request named, or every output of the model.</summary>
    public static List<ResponseOutput> SelectOutputs(ServedModel model, InferenceRequest request, IReadOnlyDictionary<string, Tensor> outputs)
    {
        var selected = new List<ResponseOutput>(Math.Max(request.Outputs.Count, model.Signature.Outputs.Count));
        if (request.Outputs.Count == 0)
        {
            foreach (var o in model.Signature.Outputs)
            {
                selected.Add(new ResponseOutput(o.Name, outputs[o.Name], request.BinaryDataOutput));
            }
        }
        else
        {
            foreach (var o in request.Outputs)
            {
                selected.Add(new ResponseOutput(o.Name, outputs[o.Name], o.Binary ?? request.BinaryDataOutput));
            }
        }

        return selected;
    }

    /// <summary>Counts a finished request in its model's metrics: its outcome and its time since <paramref name="startTimestamp"/>.</summary>
    public static void Record(ServedModel model, Metrics.RequestOutcome outcome, long startTimestamp) =>
        model.Metrics.Record(outcome, Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
}
