using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// Drives workers: connects and authenticates, ships models once (asking first whether the worker has the hash),
/// runs requests along routes of stages, and brings down workers back (see ClusterCoordinator.Revival.cs). Safe for
/// concurrent requests: micro-batches are simply concurrent calls. Which route a request takes, and running it again
/// on another when one fails, is the deployment's (<see cref="Deployments.Deployment"/>).
/// </summary>
public sealed partial class ClusterCoordinator : IAsyncDisposable
{
    private readonly ClusterToken _token;
    private readonly PendingRequests _pending;
    private readonly List<WorkerClient> _workers = [];
    private readonly Lock _lock = new();

    public ClusterCoordinator(ClusterToken token, CoordinatorOptions? options = null, ILoggerFactory? loggers = null)
    {
        _token = token;
        Options = options ?? new CoordinatorOptions();
        _pending = new PendingRequests(Options.RequestTimeout);
        Logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("Tessera.Coordinator");
    }

    /// <summary>The client id workers send results to.</summary>
    public Guid Id { get; } = Guid.NewGuid();

    public CoordinatorOptions Options { get; }

    internal ILogger Logger { get; }

    public IReadOnlyList<WorkerClient> Workers
    {
        get
        {
            lock (_lock)
            {
                return [.. _workers];
            }
        }
    }

    /// <summary>Raised when a worker is added (from a description, DNS, or a join).</summary>
    public event Action<WorkerClient>? WorkerAdded;

    public async Task<WorkerClient> ConnectAsync(string address, CancellationToken cancellation = default)
    {
        var connection = await ClusterConnection.ConnectAsync(address, _token, ConnectionRole.Coordinator, Id, Options.Limits, cancellation, Options.Tls).ConfigureAwait(false);
        var worker = new WorkerClient(address, connection, _pending, Options, Logger, StartReviving);
        lock (_lock)
        {
            _workers.Add(worker);
        }

        CoordinatorLog.Connected(Logger, worker.Name, address);
        WorkerAdded?.Invoke(worker);
        return worker;
    }

    /// <summary>Lets go of a worker that left the cluster: it is closed, no longer probed, and gone from <see cref="Workers"/>.</summary>
    public async Task RemoveAsync(WorkerClient worker)
    {
        lock (_lock)
        {
            _workers.Remove(worker);
        }

        await worker.DisposeAsync().ConfigureAwait(false);
        WorkerRemoved?.Invoke(worker);
    }

    /// <summary>Raised when a worker was removed (<see cref="RemoveAsync"/>).</summary>
    public event Action<WorkerClient>? WorkerRemoved;

    /// <summary>Makes sure <paramref name="worker"/> has the model loaded, shipping it only if its cache lacks the hash.</summary>
    public async Task<ModelLoadedMessage> EnsureModelAsync(WorkerClient worker, ModelFile model, CancellationToken cancellation = default)
    {
        try
        {
            return await QueryShipAndLoadAsync(worker, model, cancellation).ConfigureAwait(false);
        }
        catch (ClusterException e) when (e.Code == ClusterErrorCode.WorkerDown && !worker.IsUp && worker.DownReason is { } why)
        {
            // A write to a connection the heartbeat closed says only "the connection is closed": name the worker and why.
            throw new ClusterException(ClusterErrorCode.WorkerDown, $"worker {worker.Name} at {worker.Address} {why}", e);
        }
    }

    private async Task<ModelLoadedMessage> QueryShipAndLoadAsync(WorkerClient worker, ModelFile model, CancellationToken cancellation)
    {
        var hash = new WireWriter().Bytes(model.Hash);
        var state = (ModelState)(await AskAsync(worker, FrameType.ModelQuery, hash, cancellation).ConfigureAwait(false)).Frame.Payload[0];
        if (state == ModelState.Absent)
        {
            await ShipAsync(worker, model, cancellation).ConfigureAwait(false);
        }

        var loaded = await AskAsync(worker, FrameType.ModelLoad, hash, cancellation).ConfigureAwait(false);
        worker.Models[model.HashHex] = model;
        return ModelLoadedMessage.Read(loaded.Frame.Payload);
    }

    /// <summary>What runs of a loaded model have cost on <paramref name="worker"/> at each batch size (none for a model not loaded there).</summary>
    public async Task<BatchCost[]> MeasuredCostsAsync(WorkerClient worker, byte[] hash, CancellationToken cancellation = default)
    {
        var reply = await AskAsync(worker, FrameType.ModelCostQuery, new WireWriter().Bytes(hash), cancellation).ConfigureAwait(false);
        return ModelCostsMessage.Read(reply.Frame.Payload).Costs;
    }

    private async Task ShipAsync(WorkerClient worker, ModelFile model, CancellationToken cancellation)
    {
        await worker.UploadGate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await ShipAloneAsync(worker, model, cancellation).ConfigureAwait(false);
        }
        finally
        {
            worker.UploadGate.Release();
        }
    }

    private async Task ShipAloneAsync(WorkerClient worker, ModelFile model, CancellationToken cancellation)
    {
        var (id, answer) = _pending.Register([worker]);
        try
        {
            await worker.Writer.SendAsync(FrameType.ModelBegin, id, new WireWriter().Bytes(model.Hash).U64((ulong)model.Length), cancellation).ConfigureAwait(false);
            await AwaitAsync(id, answer, cancellation).ConfigureAwait(false);

            // The upload keeps its id for chunks and end; the end's answer is a new pending entry under the same id.
            var end = _pending.RegisterWithId(id, [worker]);
            byte[] buffer = new byte[Protocol.ModelChunkBytes];
            await using (var stream = File.OpenRead(model.Path))
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
                {
                    await worker.Writer.SendAsync(FrameType.ModelChunk, id, buffer.AsMemory(0, read), [], cancellation).ConfigureAwait(false);
                }
            }

            await worker.Writer.SendAsync(FrameType.ModelEnd, id, null, cancellation).ConfigureAwait(false);
            await AwaitAsync(id, end, cancellation).ConfigureAwait(false);
            CoordinatorLog.Shipped(Logger, model.HashHex, model.Length, worker.Address);
        }
        finally
        {
            _pending.Forget(id);
        }
    }

    private async Task<Reply> AskAsync(WorkerClient worker, FrameType type, WireWriter payload, CancellationToken cancellation)
    {
        var (id, answer) = _pending.Register([worker]);
        try
        {
            await worker.Writer.SendAsync(type, id, payload, cancellation).ConfigureAwait(false);
            return await AwaitAsync(id, answer, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _pending.Forget(id);
        }
    }

    /// <summary>
    /// The answer to request <paramref name="id"/>; the request timeout is <see cref="PendingRequests"/>' (no timer per
    /// request), and <paramref name="cancellation"/> cancels the pending entry.
    /// </summary>
    private async Task<Reply> AwaitAsync(ulong id, Task<Reply> answer, CancellationToken cancellation)
    {
        if (!cancellation.CanBeCanceled)
        {
            return await answer.ConfigureAwait(false);
        }

        using (cancellation.UnsafeRegister(static (state, token) => { var (pending, id) = ((PendingRequests, ulong))state!; pending.Cancel(id, token); }, (_pending, id)))
        {
            return await answer.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs one request along <paramref name="route"/>: sends <paramref name="inputs"/> to its first stage and returns
    /// the named outputs from its last. A worker of the route that is down, or goes down before the answer, fails the
    /// request with <see cref="ClusterErrorCode.WorkerDown"/> naming it (a stage that cannot reach the next:
    /// <see cref="ClusterErrorCode.RouteFailed"/>); running it elsewhere is the deployment's choice, not the coordinator's.
    /// The outputs are read into the storage <paramref name="placeOutput"/> gives (fresh tensors by default).
    /// </summary>
    public Task<IReadOnlyDictionary<string, Tensor>> RunAsync(Route route, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs, CancellationToken cancellation = default, OutputPlacement? placeOutput = null) =>
        RunAsync(route, inputs, outputs, cancellation, placeOutput, inline: false);

    /// <summary>
    /// The public RunAsync, whose answer may complete on the receive loop (<paramref name="inline"/>): for callers that
    /// hand off to the pool before their own callers' code runs (<see cref="PendingRequests.Answering"/>).
    /// </summary>
    internal Task<IReadOnlyDictionary<string, Tensor>> RunAsync(Route route, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs, CancellationToken cancellation, OutputPlacement? placeOutput, bool inline)
    {
        if (route.Workers.FirstOrDefault(w => !w.IsUp) is { } down)
        {
            return Task.FromException<IReadOnlyDictionary<string, Tensor>>(new ClusterException(ClusterErrorCode.WorkerDown, $"worker {down.Name} at {down.Address} {down.DownReason ?? "is not up"}"));
        }

        return RunOnceAsync(route, inputs, outputs, placeOutput, inline, cancellation);
    }

    private async Task<IReadOnlyDictionary<string, Tensor>> RunOnceAsync(Route route, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs, OutputPlacement? placeOutput, bool inline, CancellationToken cancellation)
    {
        var workers = route.Workers;
        var stages = route.RunStages;
        var (id, answer) = _pending.Register(workers, placeOutput, inline);
        foreach (var w in workers)
        {
            w.Began();
        }

        using var span = ClusterTelemetry.Source.StartActivity("route", ActivityKind.Client);
        span?.SetTag("tessera.route", route.ToString());
        var traced = PipelineTrace.Start();
        int rows = PipelineTrace.Current is null || inputs.Count == 0 ? 0 : inputs.First().Value.Shape is [int leading, ..] ? leading : 1;
        try
        {
            var run = new RunMessage((ushort)inputs.Count, Id, 0, 0, stages, [.. outputs]) { Trace = span?.Context ?? default, Wire = Options.WireDataType };
            await route.Stages[0].Worker.Writer.SendAsync(FrameType.Run, id, run.Write().Written, [.. inputs], cancellation, run.Wire).ConfigureAwait(false);
            PipelineTrace.End(PipelineTrace.Kind.Send, traced, id, -1, rows);
            var reply = await AwaitAsync(id, answer, cancellation).ConfigureAwait(false);
            PipelineTrace.End(PipelineTrace.Kind.Route, traced, id, -1, rows);
            return reply.Tensors;
        }
        catch (Exception e) when (ClusterTelemetry.Failed(span, e))
        {
            throw;
        }
        finally
        {
            _pending.Forget(id);
            foreach (var w in workers)
            {
                w.Ended();
            }
        }
    }

    /// <summary>
    /// Bytes of tensor data this process and every worker up have sent so far (<see cref="WireCounters"/>), asked of
    /// the workers now: the difference over a request is what it cost the network.
    /// </summary>
    public async Task<long> TensorBytesSentAsync(CancellationToken cancellation = default)
    {
        var infos = await Task.WhenAll(Workers.Where(w => w.IsUp).Select(w => w.RefreshInfoAsync(cancellation))).ConfigureAwait(false);
        return WireCounters.TensorBytesSent + infos.Sum(i => i.TensorBytesSent);
    }

    public async ValueTask DisposeAsync()
    {
        await StopRevivingAsync().ConfigureAwait(false);
        foreach (var worker in Workers)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
        }

        _pending.Dispose();
    }
}
