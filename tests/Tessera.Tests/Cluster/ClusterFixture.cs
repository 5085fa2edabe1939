using System.Net;
using System.Net.Sockets;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>A temp folder with a token file, small models, and helpers shared by the cluster tests.</summary>
internal sealed class ClusterFixture : IDisposable
{
    private readonly List<ReservedPort> _ports = [];

    public ClusterFixture()
    {
        // The coordinator's heartbeat loops share this process's pool with CPU-heavy tests running in parallel;
        // without spare threads a 2-core CI host can starve them past the 2 s down time.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(io, 16));
        Directory = System.IO.Directory.CreateTempSubdirectory("tessera-cluster-").FullName;
        TokenFile = Path.Combine(Directory, "token");
        Secret = ClusterToken.NewSecret();
        File.WriteAllText(TokenFile, Secret);
        Token = new ClusterToken(Secret);
    }

    public string Directory { get; }

    public string TokenFile { get; }

    public string Secret { get; }

    public ClusterToken Token { get; }

    /// <summary>
    /// A coordinator connection and the worker side that accepted it over loopback, on <paramref name="limits"/>, with
    /// a PING and PONG exchanged so that the shared-memory offer and answer have been handled both ways.
    /// </summary>
    public async Task<(ClusterConnection Client, ClusterConnection Server)> ConnectedPairAsync(TransportLimits limits)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accepting = Task.Run(async () => await ClusterConnection.AcceptAsync(
            await listener.AcceptAsync(), Token, () => new WorkerInfo("w", 1, 0, 0, 0, 0, HostId: HostIdentity.BootId), limits, default));
        var client = await ClusterConnection.ConnectAsync(ClusterAddress.Format(listener.LocalEndPoint!), Token, ConnectionRole.Coordinator, Guid.NewGuid(), limits, default);
        var server = await accepting;
        await client.Writer.SendAsync(FrameType.Ping, 0, null, default);
        Assert.Equal(FrameType.Ping, (await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default))!.Type);
        await server.Writer.SendAsync(FrameType.Pong, 0, null, default);
        Assert.Equal(FrameType.Pong, (await client.Reader.ReadAsync(TimeSpan.FromSeconds(10), default))!.Type);
        return (client, server);
    }

    /// <summary>Fast failure detection so that failover tests stay short (longer on a crowded machine, where a live worker can go 2 s without a core).</summary>
    public static CoordinatorOptions FastOptions => new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        DownAfter = MachineLoad.Stretch(TimeSpan.FromSeconds(2)),
        RequestTimeout = TimeSpan.FromSeconds(60),
    };

    public string NewCacheDir() => System.IO.Directory.CreateDirectory(Path.Combine(Directory, "cache-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public WorkerProcess StartWorker(string? cacheDir = null, params string[] extra) => new(TokenFile, cacheDir ?? NewCacheDir(), extra);

    /// <summary>
    /// A worker on a port reserved until the fixture is disposed (<see cref="ReservedPort"/>), for a test that kills it
    /// and starts another on its address: a port-0 worker's port can be taken in between by another test's connection.
    /// </summary>
    public WorkerProcess StartRestartableWorker(params string[] extra)
    {
        var port = ReservedPort.Take();
        lock (_ports) _ports.Add(port);
        return WorkerProcess.At(port.Address, TokenFile, NewCacheDir(), extra);
    }

    public string Save(OnnxModel model, string name)
    {
        string path = Path.Combine(Directory, name);
        ModelWriter.Save(model, path);
        return path;
    }

    /// <summary>Stage 1 of a two-stage chain: h = relu(x @ w1 + b1).</summary>
    public static OnnxModel Stage1(int k, int n, int seed) => new GraphBuilder()
        .Input("x", DataType.Float32, "N", k)
        .Initializer("w1", Random([k, n], seed))
        .Initializer("b1", Random([n], seed + 1))
        .Node("MatMul", ["x", "w1"], ["xw"])
        .Node("Add", ["xw", "b1"], ["xb"])
        .Node("Relu", ["xb"], ["h"])
        .Output("h")
        .Build();

    /// <summary>Stage 2: y = tanh(h @ w2) + x, reading the stage-1 output and the original input (a skip connection).</summary>
    public static OnnxModel Stage2(int k, int n, int seed) => new GraphBuilder()
        .Input("h", DataType.Float32, "N", n)
        .Input("x", DataType.Float32, "N", k)
        .Initializer("w2", Random([n, k], seed + 2))
        .Node("MatMul", ["h", "w2"], ["hw"])
        .Node("Tanh", ["hw"], ["t"])
        .Node("Add", ["t", "x"], ["y"])
        .Output("y")
        .Build();

    /// <summary>Both stages in one graph: the single-process reference.</summary>
    public static OnnxModel Whole(int k, int n, int seed) => new GraphBuilder()
        .Input("x", DataType.Float32, "N", k)
        .Initializer("w1", Random([k, n], seed))
        .Initializer("b1", Random([n], seed + 1))
        .Initializer("w2", Random([n, k], seed + 2))
        .Node("MatMul", ["x", "w1"], ["xw"])
        .Node("Add", ["xw", "b1"], ["xb"])
        .Node("Relu", ["xb"], ["h"])
        .Node("MatMul", ["h", "w2"], ["hw"])
        .Node("Tanh", ["hw"], ["t"])
        .Node("Add", ["t", "x"], ["y"])
        .Output("y")
        .Build();

    public static Tensor Random(int[] shape, int seed)
    {
        var rng = new Random(seed);
        var t = Tensor.Allocate(DataType.Float32, shape);
        var span = t.Span<float>();
        for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    public static Tensor Reference(OnnxModel model, string input, Tensor x, string output) =>
        new InferenceSession(model).Run(new Dictionary<string, Tensor> { [input] = x })[output];

    public async Task<ClusterCoordinator> CoordinatorAsync(params WorkerProcess[] workers)
    {
        var coordinator = new ClusterCoordinator(Token, FastOptions);
        foreach (var w in workers)
        {
            await coordinator.ConnectAsync(w.Address);
        }

        return coordinator;
    }

    public void Dispose()
    {
        lock (_ports)
        {
            foreach (var port in _ports) port.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
