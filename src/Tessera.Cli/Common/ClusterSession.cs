using Microsoft.Extensions.Logging;
using Tessera.Cli.Commands;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;

namespace Tessera.Cli.Common;

/// <summary>
/// A coordinator connected to the workers of a cluster file (addresses or <c>dns:NAME:PORT</c>, kept up to date by
/// <see cref="ClusterMembers"/>), that models are deployed on (`run --cluster`, `batch --cluster`).
/// </summary>
internal sealed class ClusterSession : IAsyncDisposable
{
    private readonly ClusterCoordinator _coordinator;
    private readonly ILoggerFactory _loggers;
    private readonly ClusterMembers _members;

    private ClusterSession(ClusterCoordinator coordinator, ILoggerFactory loggers, ClusterMembers members)
    {
        _coordinator = coordinator;
        _loggers = loggers;
        _members = members;
    }

    /// <summary>Connects to the cluster file's workers; none answering is a one-line error.</summary>
    public static async Task<ClusterSession> ConnectAsync(string clusterPath, string? tokenFile, ClusterTls? tls, WireDataType wire)
    {
        var nodes = PlanFiles.ClusterNodes(clusterPath);
        var token = WorkerCommand.ReadToken(tokenFile);
        var coordinator = new ClusterCoordinator(token, new CoordinatorOptions { Tls = tls, WireDataType = wire });
        var loggers = WorkerCommand.CreateLoggers();
        var joined = new ClusterNode { Name = "joined", MemoryBytes = 1 };
        var members = new ClusterMembers(coordinator, nodes, joined, loggers.CreateLogger("Tessera.Membership"));
        var session = new ClusterSession(coordinator, loggers, members);
        try
        {
            await members.StartAsync().ConfigureAwait(false);
            if (members.Current.Count == 0) throw new CliException($"no worker of {clusterPath} answered ({string.Join(", ", nodes.Select(n => n.Address))})");
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Workers up now.</summary>
    public int Workers => _members.Current.Count(m => m.Worker.IsUp);

    /// <summary>Places the model by <paramref name="strategy"/> (a plan made for <paramref name="inputShapes"/>) over the members, following them as they change.</summary>
    public async Task<Deployment> DeployAsync(string modelPath, DeploymentStrategy strategy, IReadOnlyDictionary<string, int[]> inputShapes, int? degree, DeploymentOptions options)
    {
        var request = new PlacementRequest(modelPath, ModelReader.Load(modelPath), strategy) { InputShapes = inputShapes, Degree = degree };
        try
        {
            return await Deployment.StartAsync(Path.GetFileNameWithoutExtension(modelPath), new Replacement(_coordinator, () => _members.Current, request), options, _loggers.CreateLogger("Tessera.Deployment")).ConfigureAwait(false);
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _members.DisposeAsync().ConfigureAwait(false);
        await _coordinator.DisposeAsync().ConfigureAwait(false);
        _loggers.Dispose();
    }
}
