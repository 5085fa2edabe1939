using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// Runs the current stage of a RUN request and sends the tensors on: to the next stage's worker over a peer link
/// (so stage-to-stage tensors never pass through the coordinator), or, at the last stage, back to the coordinator
/// that sent the request. Failures go to that coordinator as an Error frame with the request's id.
/// </summary>
internal sealed class StageExecutor
{
    private readonly WorkerServer _server;

    public StageExecutor(WorkerServer server)
    {
        _server = server;
    }

    public async Task ExecuteAsync(ulong id, RunMessage run, Dictionary<string, Tensor> tensors)
    {
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

            IReadOnlyDictionary<string, Tensor> outputs;
            try
            {
                outputs = await model.RunAsync(feeds).ConfigureAwait(false);
            }
            catch (InferenceException e)
            {
                throw new ClusterException(ClusterErrorCode.InferenceFailed, $"stage {run.Current}: {e.Message}");
            }

            foreach (var (name, tensor) in outputs)
            {
                tensors[name] = tensor;
            }

            if (run.IsLastStage)
            {
                await ReplyAsync(id, run, tensors).ConfigureAwait(false);
            }
            else
            {
                await ForwardAsync(id, run, tensors).ConfigureAwait(false);
            }
        }
        catch (Exception caught)
        {
            // Whatever went wrong, the coordinator hears of it; the worker carries on.
            var e = caught as ClusterException ?? new ClusterException(ClusterErrorCode.Internal, "internal error: " + caught.Message, caught);
            WorkerLog.RequestFailed(_server.Logger, id, e.Code, e.Message);
            if (_server.TryGetCoordinator(run.ReplyTo, out var coordinator))
            {
                await coordinator.TrySendErrorAsync(id, e.Code, $"worker {_server.Name}: {e.Message}").ConfigureAwait(false);
            }
            else
            {
                WorkerLog.NoReplyConnection(_server.Logger, id, run.ReplyTo);
            }
        }
        finally
        {
            _server.RequestEnded();
        }
    }

    private async Task<LoadedModel> ModelForAsync(RunMessage run)
    {
        string hex = Convert.ToHexStringLower(run.Stage.ModelHash);
        // A model that is cached but not loaded (e.g. after a restart) loads on first use.
        return _server.Models.TryGetLoaded(hex, out var model) ? model : await _server.Models.LoadAsync(hex).ConfigureAwait(false);
    }

    private async Task ReplyAsync(ulong id, RunMessage run, Dictionary<string, Tensor> tensors)
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
        await coordinator.Writer.SendAsync(FrameType.Result, id, payload.Written, results, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task ForwardAsync(ulong id, RunMessage run, Dictionary<string, Tensor> tensors)
    {
        var needed = new HashSet<string>(run.Outputs, StringComparer.Ordinal);
        for (int i = run.Current + 1; i < run.Stages.Length; i++)
        {
            needed.UnionWith(run.Stages[i].Inputs);
        }

        var forward = tensors.Where(kv => needed.Contains(kv.Key)).ToList();
        var next = run.Next((ushort)forward.Count);
        string address = next.Stage.Address;
        for (int attempt = 0; ; attempt++)
        {
            ClusterConnection? link = null;
            try
            {
                link = await _server.Peers.GetAsync(address, CancellationToken.None).ConfigureAwait(false);
                await link.Writer.SendAsync(FrameType.Run, id, next.Write().Written, forward, CancellationToken.None).ConfigureAwait(false);
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
                    throw new ClusterException(ClusterErrorCode.RouteFailed, $"cannot reach the worker of stage {next.Current} at {address}: {e.Message}");
                }
            }
        }
    }
}
