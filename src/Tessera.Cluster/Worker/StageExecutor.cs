using System.Diagnostics;
using Tessera.Cluster.Collective;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// Runs the current stage (or this worker's rank of it) of a RUN request and sends the tensors on: to the next stage's worker over a peer link
/// (so stage-to-stage tensors never pass through the coordinator), or, at the last stage, back to the coordinator
/// that sent the request. Failures go to that coordinator as an Error frame with the request's id.
/// A stage of one rank computes its outputs straight into the ring of the connection they leave on, when that shares
/// memory (<see cref="RingOutputs"/>), so sending them copies nothing.
/// </summary>
internal sealed class StageExecutor
{
    // A run on a coordinator's frame thread holds back that connection's PONGs for its length: only runs known to be
    // far shorter than the heartbeat's patience (CoordinatorOptions.DownAfter, 5 s) take it.
    private const double LongestRunOnHeartbeatThread = 0.05;

    private readonly WorkerServer _server;

    public StageExecutor(WorkerServer server)
    {
        _server = server;
    }

    /// <param name="from">The connection the RUN came on: a stage of one rank may run on its frame thread (<see cref="MayRunHere"/>).</param>
    public async Task ExecuteAsync(ulong id, RunMessage run, Dictionary<string, Tensor> tensors, ClusterConnection from)
    {
        // The group run of a tensor-parallel stage (null for a stage of one rank).
        var group = run.Stage.Degree > 1
            ? new GroupRun(new GroupRunId(run.ReplyTo, id, run.Current), run.Rank, [.. run.Stage.Ranks.Select(r => r.Address)], run.Wire)
            : null;
        using var span = ClusterTelemetry.Source.StartActivity("stage", ActivityKind.Server, run.Trace);
        if (span is not null)
        {
            span.SetTag("tessera.worker", _server.Name);
            span.SetTag("tessera.stage", run.Current);
            span.SetTag("tessera.rank", run.Rank);
            span.SetTag("tessera.model_hash", Convert.ToHexStringLower(run.Self.ModelHash));
        }

        var traced = PipelineTrace.Start();
        int rows = 0;
        RingOutputs? ringOutputs = null;
        // Inputs that outputs of the same name replace, when they view the incoming ring: given back with the others.
        List<Tensor>? replaced = null;
        try
        {
            var model = await ModelForAsync(run).ConfigureAwait(false);
            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (string name in model.InputNames)
            {
                feeds[name] = tensors.TryGetValue(name, out var t)
                    ? t
                    : throw new ClusterException(ClusterErrorCode.BadRequest, $"stage {run.Current} needs input '{name}', which the request does not carry");
            }

            // The next stage's link, looked up once for the run: its ring takes the outputs, its writer sends them.
            var next = group is null && !run.IsLastStage ? await NextLinkAsync(run).ConfigureAwait(false) : null;
            ringOutputs = group is null ? RingOutputsFor(run, model, next) : null;
            rows = RunCosts.RowsOf(model.InputNames, feeds);
            var computing = group is { Rank: 0 } ? await RelayAndQueueAsync(id, run, model, feeds, group).ConfigureAwait(false) : model.RunAsync(feeds, group, ringOutputs is null ? null : ringOutputs.Allocate, runHere: group is null && MayRunHere(from, model, rows), request: id);
            IReadOnlyDictionary<string, Tensor> outputs;
            try
            {
                outputs = await computing.ConfigureAwait(false);
            }
            catch (InferenceException e)
            {
                string where = group is null ? $"stage {run.Current}" : $"stage {run.Current} rank {run.Rank}";
                // A rank that could not be reached is a broken route (another replica may take over), not bad inputs.
                var code = e.InnerException is RankUnreachableException ? ClusterErrorCode.RouteFailed : ClusterErrorCode.InferenceFailed;
                throw new ClusterException(code, $"{where}: {e.Message}");
            }

            if (run.Rank != 0)
            {
                // Every rank of a group computes the same outputs; rank 0 sends them on.
                return;
            }

            foreach (var (name, tensor) in outputs)
            {
                if (tensors.TryGetValue(name, out var input) && input.StorageOwner is RingLease && !ReferenceEquals(input, tensor))
                {
                    // Not given back yet: the output may view it.
                    (replaced ??= []).Add(input);
                }

                tensors[name] = tensor;
            }

            var sending = PipelineTrace.Start();
            if (run.IsLastStage)
            {
                await ReplyAsync(id, run, tensors, ringOutputs).ConfigureAwait(false);
            }
            else
            {
                await ForwardAsync(id, run, tensors, ringOutputs, next).ConfigureAwait(false);
            }

            PipelineTrace.End(PipelineTrace.Kind.Send, sending, id, run.Current, rows);

            // Everything is on the wire now and the session keeps nothing of a finished run: the storage is free.
            // (Only after success: a failed run may leave a tensor with a rank still reading it.)
            foreach (var tensor in tensors.Values)
            {
                _server.Tensors.Return(tensor);
            }
        }
        catch (Exception caught)
        {
            // Whatever went wrong, the coordinator hears of it; the worker carries on.
            var e = caught as ClusterException ?? new ClusterException(ClusterErrorCode.Internal, "internal error: " + caught.Message, caught);
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            WorkerLog.RequestFailed(_server.Logger, id, e.Code, e.Message);
            // The coordinator first, so that it hears this rank's own reason before the others' "rank R gave up".
            if (_server.TryGetCoordinator(run.ReplyTo, out var coordinator))
            {
                await coordinator.TrySendErrorAsync(id, e.Code, $"worker {_server.Name}: {e.Message}").ConfigureAwait(false);
            }
            else
            {
                WorkerLog.NoReplyConnection(_server.Logger, id, run.ReplyTo);
            }

            if (group is not null)
            {
                // The other ranks would otherwise wait for this one until their collective timeout; and blocks they
                // sent for a run this rank never started are released (and later ones dropped).
                NetworkCommunicator.SendAbort(_server.Peers, group, $"worker {_server.Name}: {e.Message}");
                _server.Collectives.End(group.Id);
            }
        }
        finally
        {
            // After the outputs are sent or the run failed: gives the ring gate back (and the ring's unsent pieces), and
            // the incoming ring the inputs kept in place (only a stage of one rank has any: no other rank reads them).
            ringOutputs?.Dispose();
            RingLease.GiveBack(tensors.Values);
            if (replaced is not null) RingLease.GiveBack(replaced);
            _server.RequestEnded();
            PipelineTrace.End(PipelineTrace.Kind.Request, traced, id, run.Current, rows);
        }
    }

    /// <summary>
    /// Whether this run may compute on the calling thread rather than be handed to the model's thread (which costs a
    /// wake and a sleep per run): only a connection's own frame thread (<see cref="FrameRingStream"/>: it serves that
    /// connection alone, while the socket engine's thread serves every socket of the process), and, on a connection
    /// that carries heartbeats, only a run of a size known to be short. The connection reads its next frames after the run.
    /// </summary>
    private static bool MayRunHere(ClusterConnection from, LoadedModel model, int rows)
    {
        if (!FrameRingStream.CurrentThreadReadsFrames) return false;
        return from.Role == ConnectionRole.Peer || model.Costs.KnownUnder(rows, LongestRunOnHeartbeatThread);
    }

    /// <summary>
    /// The outgoing ring this run's outputs can be computed into: the next stage's link (<paramref name="next"/>), or at
    /// the last stage the connection from the coordinator; null when that shares no memory, or when float32 tensors are
    /// narrowed on the wire (the ring then holds other bytes than the outputs).
    /// </summary>
    private RingOutputs? RingOutputsFor(RunMessage run, LoadedModel model, ClusterConnection? next)
    {
        if (run.Wire != WireDataType.Float32) return null;
        var writer = run.IsLastStage
            ? (_server.TryGetCoordinator(run.ReplyTo, out var coordinator) ? coordinator.Writer : null)
            : next?.Writer;
        return writer?.SharedRing is { } ring ? new RingOutputs(writer, ring, model.PooledOutputs, _server.Options.Limits.ReadTimeout) : null;
    }

    /// <summary>The link to the next stage's worker, or null when it cannot be reached now (the send after the run tries again and says why).</summary>
    private async Task<ClusterConnection?> NextLinkAsync(RunMessage run)
    {
        try
        {
            return await _server.Peers.GetAsync(run.Stages[run.Current + 1].Ranks[0].Address, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ClusterException)
        {
            return null;
        }
    }

    private async Task<LoadedModel> ModelForAsync(RunMessage run)
    {
        string hex = Convert.ToHexStringLower(run.Self.ModelHash);
        // A model that is cached but not loaded (e.g. after a restart) loads on first use.
        return _server.Models.TryGetLoaded(hex, out var model) ? model : await _server.Models.LoadAsync(hex).ConfigureAwait(false);
    }

    /// <summary>
    /// Rank 0 of a group: sends the RUN with the stage's inputs to every other rank, then queues its own run, all under
    /// the model's relay gate, so every rank's model thread sees the group's requests in the same order (a rank
    /// waiting at a collective of request 2 while its peer waits at request 1 would deadlock until the timeout).
    /// </summary>
    private async Task<Task<IReadOnlyDictionary<string, Tensor>>> RelayAndQueueAsync(ulong id, RunMessage run, LoadedModel model, Dictionary<string, Tensor> feeds, GroupRun group)
    {
        var inputs = feeds.ToList();
        await model.RelayGate.WaitAsync().ConfigureAwait(false);
        try
        {
            for (int rank = 1; rank < group.Size; rank++)
            {
                var relayed = run.ForRank(rank) with { TensorCount = (ushort)inputs.Count };
                await SendAsync(id, group.Addresses[rank], relayed, inputs).ConfigureAwait(false);
            }

            return model.RunAsync(feeds, group);
        }
        finally
        {
            model.RelayGate.Release();
        }
    }

    private async Task ReplyAsync(ulong id, RunMessage run, Dictionary<string, Tensor> tensors, RingOutputs? ringOutputs)
    {
        var results = new List<KeyValuePair<string, Tensor>>(run.Outputs.Length);
        foreach (string name in run.Outputs)
        {
            results.Add(new(name, tensors.TryGetValue(name, out var t) ? t : throw new ClusterException(ClusterErrorCode.BadRequest, $"no stage produced the requested output '{name}'")));
        }

        if (!_server.TryGetCoordinator(run.ReplyTo, out var coordinator))
        {
            WorkerLog.NoReplyConnection(_server.Logger, id, run.ReplyTo);
            return;
        }

        var payload = new WireWriter().U16((ushort)results.Count);
        await coordinator.Writer.SendAsync(FrameType.Result, id, payload.Written, results, CancellationToken.None, run.Wire, ringOutputs).ConfigureAwait(false);
    }

    private async Task ForwardAsync(ulong id, RunMessage run, Dictionary<string, Tensor> tensors, RingOutputs? ringOutputs, ClusterConnection? link)
    {
        var forward = new List<KeyValuePair<string, Tensor>>(tensors.Count);
        foreach (var tensor in tensors)
        {
            if (NeededLater(run, tensor.Key)) forward.Add(tensor);
        }

        var next = run.Next((ushort)forward.Count);
        await SendAsync(id, next.Self.Address, next, forward, ringOutputs, link).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a later stage or the request's outputs take <paramref name="name"/>: a scan of a few short name lists,
    /// rather than a set built for every run.
    /// </summary>
    private static bool NeededLater(RunMessage run, string name)
    {
        if (Array.IndexOf(run.Outputs, name) >= 0) return true;
        for (int i = run.Current + 1; i < run.Stages.Length; i++)
        {
            if (Array.IndexOf(run.Stages[i].Inputs, name) >= 0) return true;
        }

        return false;
    }

    /// <param name="known">The link to <paramref name="address"/> already looked up for this run, if any, used for the first attempt.</param>
    private async Task SendAsync(ulong id, string address, RunMessage message, List<KeyValuePair<string, Tensor>> tensors, RingOutputs? ringOutputs = null, ClusterConnection? known = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            ClusterConnection? link = null;
            try
            {
                link = attempt == 0 && known is not null ? known : await _server.Peers.GetAsync(address, CancellationToken.None).ConfigureAwait(false);
                await link.Writer.SendAsync(FrameType.Run, id, message.Payload(), tensors, CancellationToken.None, message.Wire, ringOutputs).ConfigureAwait(false);
                return;
            }
            catch (ClusterException e)
            {
                if (link is not null)
                {
                    _server.Peers.Drop(address, link);
                }

                // One retry covers a link the peer closed while it sat unused.
                if (attempt > 0 || link is null)
                {
                    // Named here rather than by the caller: a name formatted for every send cost a string per run.
                    string what = message.Rank == 0 ? $"the worker of stage {message.Current}" : $"rank {message.Rank} of stage {message.Current}";
                    throw new ClusterException(ClusterErrorCode.RouteFailed, $"cannot reach {what} at {address}: {e.Message}");
                }
            }
        }
    }
}
