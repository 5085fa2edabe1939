using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Tensors between processes of one host through shared memory (docs/protocol.md): real worker processes, checked
/// against the single-process run and the TCP path; what is left in /dev/shm (nothing) when a peer dies; and that
/// only an authenticated peer ever learns a segment's name.
/// </summary>
public sealed partial class SharedMemoryTests : IDisposable
{
    private const int K = 24;
    private const int N = 40;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task PipelineThroughSharedMemoryEqualsTcpAndOneProcess()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var shared = await _fx.CoordinatorAsync(a, b);
        await using var tcp = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions with { Limits = TransportLimits.Default with { SharedMemoryBytes = 0 } });
        await tcp.ConnectAsync(a.Address);
        await tcp.ConnectAsync(b.Address);

        // 1000 rows: every tensor (x 96 KB, h 160 KB, y 96 KB) is above the inline size, so each crosses the rings.
        var batches = Enumerable.Range(0, 6).Select(i => ClusterFixture.Random([1000, K], 300 + i)).ToArray();
        var viaShared = await RunPipelineAsync(shared, batches);
        var viaTcp = await RunPipelineAsync(tcp, batches);
        for (int i = 0; i < batches.Length; i++)
        {
            var expected = ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", batches[i], "y").ToArray<float>();
            Assert.Equal(expected, viaShared[i]);
            Assert.Equal(expected, viaTcp[i]);
        }

        Assert.All(shared.Workers, w => Assert.Equal("shared memory", w.TensorPath));
        Assert.All(tcp.Workers, w => Assert.Equal("TCP: shared memory is off", w.TensorPath));
        // Worker b took the coordinator's connection and worker a's peer link (stage 1 → stage 2) through shared memory.
        // Each link's path is logged when its switch settles, after the "authenticated as" line and through the
        // worker's asynchronous console: wait for both lines (bounded) rather than count them at one instant.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(b.Log.Contains("as Peer", StringComparison.Ordinal) && CountLog(b, ": shared memory") >= 2) && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
        Assert.True(b.Log.Contains("as Peer", StringComparison.Ordinal) && CountLog(b, ": shared memory") >= 2, b.Log);

        // The segments are mapped in this process and the workers, and no longer named in /dev/shm.
        var mine = MappedSegments(Environment.ProcessId);
        Assert.NotEmpty(mine);
        Assert.NotEmpty(MappedSegments(a.Pid));
        // A client unlinks its segment's name when the server's answer arrives, which may be just after the server logged
        // its side settled: wait (bounded) for the names to go.
        var mapped = mine.Concat(MappedSegments(a.Pid)).Concat(MappedSegments(b.Pid)).ToList();
        await NamesGoneAsync(mapped);
        Assert.All(mapped, name => Assert.False(File.Exists("/dev/shm/" + name), name));
    }

    /// <summary>Waits, at most 20 s, until none of the segment names is in /dev/shm (each is then asserted by the caller).</summary>
    private static async Task NamesGoneAsync(IReadOnlyCollection<string> names)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (names.Any(name => File.Exists("/dev/shm/" + name)) && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
    }

    [Fact]
    public async Task KilledPeerLeavesNothingInDevShmAndTheSurvivorCarriesOn()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var (_, _, route) = await DeployPipelineAsync(coordinator);
        await RunPipelineAsync(coordinator, [ClusterFixture.Random([1000, K], 1)]);
        var segments = MappedSegments(Environment.ProcessId).Concat(MappedSegments(a.Pid)).Concat(MappedSegments(b.Pid)).ToList();
        Assert.NotEmpty(segments);

        // Requests stream while worker b is killed mid-transfer: each ends in a clear error, none hangs.
        var runs = Enumerable.Range(0, 40).Select(i => coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([4000, K], i) }, ["y"])).ToList();
        await Task.Delay(50);
        b.Signal("KILL");
        foreach (var run in runs)
        {
            try
            {
                await run.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (ClusterException e)
            {
                Assert.Contains(e.Code, new[] { ClusterErrorCode.WorkerDown, ClusterErrorCode.RouteFailed, ClusterErrorCode.Timeout });
            }
        }

        // The survivors clean up as they notice the peer gone (under load, a moment after the runs end): bounded wait.
        await NamesGoneAsync(segments);
        Assert.All(segments, name => Assert.False(File.Exists("/dev/shm/" + name), name));

        // Worker a lost its peer link only: it still serves a whole model through its shared memory with us.
        var whole = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 3), "whole.onnx"));
        await coordinator.EnsureModelAsync(coordinator.Workers[0], whole);
        var x = ClusterFixture.Random([1000, K], 77);
        var y = await coordinator.RunAsync(new Route([new RouteStep(coordinator.Workers[0], whole.Hash, ["x"])]), new Dictionary<string, Tensor> { ["x"] = x }, ["y"]);
        Assert.Equal(ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", x, "y").ToArray<float>(), y["y"].ToArray<float>());
        Assert.Equal("shared memory", coordinator.Workers[0].TensorPath);
        Assert.False(a.HasExited);
    }

    [Fact]
    public async Task OnlyAnAuthenticatedPeerLearnsTheSegment()
    {
        using var worker = _fx.StartWorker();

        // A client with the wrong token is refused before anything is shared: the worker maps no segment for it.
        var wrong = new ClusterToken(ClusterToken.NewSecret());
        var refused = await Assert.ThrowsAsync<ClusterException>(() =>
            ClusterConnection.ConnectAsync(worker.Address, wrong, ConnectionRole.Coordinator, Guid.NewGuid(), TransportLimits.Default, default));
        Assert.Equal(ClusterErrorCode.Unauthorized, refused.Code);
        Assert.Empty(MappedSegments(worker.Pid));

        // An offer slipped in before authentication is malformed, not opened.
        var hello = new HelloMessage(Protocol.Version, ConnectionRole.Coordinator, Guid.NewGuid(), new byte[Protocol.NonceBytes]).Write().Written.ToArray();
        var offer = new SharedMemoryOfferMessage(HostIdentity.BootId, HostIdentity.NetworkNamespace, "tessera-" + new string('0', 32), 4096, 4096, new byte[16]).Write().Written.ToArray();
        var reply = await RawExchange.SendAsync(worker.Address, [.. RawExchange.Frame(FrameType.SharedMemoryOffer, 0, offer), .. RawExchange.Frame(FrameType.Hello, 0, hello)]);
        Assert.Equal(ClusterErrorCode.Malformed, reply.Code);
        Assert.Empty(MappedSegments(worker.Pid));

        // A server that cannot prove the token (an impostor on the worker's port) hears no offer: the client hangs up.
        using var impostor = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        impostor.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        impostor.Listen(1);
        var serving = ImpostorAsync(impostor);
        var error = await Assert.ThrowsAsync<ClusterException>(() =>
            ClusterConnection.ConnectAsync(ClusterAddress.Format(impostor.LocalEndPoint!), _fx.Token, ConnectionRole.Coordinator, Guid.NewGuid(), TransportLimits.Default, default));
        Assert.Equal(ClusterErrorCode.Unauthorized, error.Code);
        Assert.Equal([FrameType.Hello, FrameType.Auth], await serving);

        // The real worker, authenticated, shares memory.
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        var whole = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 3), "whole.onnx"));
        await coordinator.EnsureModelAsync(coordinator.Workers[0], whole);
        await coordinator.RunAsync(new Route([new RouteStep(coordinator.Workers[0], whole.Hash, ["x"])]), new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([1000, K], 5) }, ["y"]);
        Assert.Equal("shared memory", coordinator.Workers[0].TensorPath);
        Assert.NotEmpty(MappedSegments(worker.Pid));
    }

    [Fact]
    public async Task AMessageLargerThanTheRingWaitsForTheReaderInsteadOfStalling()
    {
        // 1 MiB rings, messages of three 700 KB tensors: the second waits until the reader has taken the first, which
        // it can only do once the first one's frame is on the wire. A stall would end in the 5 s read timeout.
        var limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (connected, accepted) = await _fx.ConnectedPairAsync(limits);
        await using var client = connected;
        await using var server = accepted;
        Assert.Equal(("shared memory", "shared memory"), (client.TensorPath, server.TensorPath));

        for (ulong id = 1; id <= 4; id++)
        {
            var tensors = Enumerable.Range(0, 3).Select(i => new KeyValuePair<string, Tensor>($"t{i}", ClusterFixture.Random([175_000], (int)id * 10 + i))).ToList();
            var sending = client.Writer.SendAsync(FrameType.Result, id, new WireWriter().U16(3).Written, tensors, default);
            Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default))!.Type);
            foreach (var (name, sent) in tensors)
            {
                var frame = await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default);
                Assert.Equal(name, frame!.TensorName);
                Assert.Equal(sent.ToArray<float>(), frame.Tensor!.ToArray<float>());
            }

            await sending;
        }
    }

    [Fact]
    public void RingReturnsPiecesInOrderAcrossItsEndAndRefusesAnyOtherPosition()
    {
        using var segment = SharedSegment.Create(4096, 0, out _);
        var writer = segment.NewToServerRing();
        var reader = segment.NewToServerRing();
        var random = new Random(9);
        var raw = new WireEncoding(DataType.UInt8, DataType.UInt8);
        for (int i = 0; i < 50; i++)
        {
            // 1000..3000 bytes in a 4096-byte ring: pieces wrap past its end every other time.
            var piece = new byte[random.Next(1000, 3000)];
            random.NextBytes(piece);
            Assert.True(writer.TryWrite(piece, raw, out long position));
            // While it is unread, a piece larger than the rest of the ring has no room anywhere.
            Assert.False(writer.TryWrite(new byte[4096 - ((piece.Length + 63) & ~63) + 1], raw, out _));
            var back = new byte[piece.Length];
            var wrong = Assert.Throws<ClusterException>(() => reader.Read(position + 64, back, raw));
            Assert.Equal(ClusterErrorCode.Malformed, wrong.Code);
            reader.Read(position, back, raw);
            Assert.Equal(piece, back);
        }

        Assert.False(writer.Fits(4097));
        Assert.True(writer.Fits(4096));
    }

    [Fact]
    public void TheWritersRingIsMappedBeforeItsFirstPass()
    {
        // Left to fault in, a fresh ring costs its writer a page fault per 4 KiB on the first pass.
        const int bytes = 4 << 20;
        var piece = new byte[bytes];
        new Random(3).NextBytes(piece); // the piece's own pages are touched before anything is counted
        var raw = new WireEncoding(DataType.UInt8, DataType.UInt8);
        using var plain = SharedSegment.Create(bytes, 0, out _);
        using var populated = SharedSegment.Create(bytes, 0, out _);

        long before = ThreadMinorFaults();
        Assert.True(plain.NewToServerRing().TryWrite(piece, raw, out _));
        long plainFaults = ThreadMinorFaults() - before;
        var ring = populated.NewToServerRing().Populated();
        before = ThreadMinorFaults();
        Assert.True(ring.TryWrite(piece, raw, out long position));
        long populatedFaults = ThreadMinorFaults() - before;

        Assert.True(plainFaults >= bytes / 4096 / 2, $"an unpopulated ring's first pass took {plainFaults} page faults: the count does not see them");
        Assert.True(populatedFaults < 64, $"a populated ring's first pass took {populatedFaults} page faults, an unpopulated one's {plainFaults}");
        var back = new byte[bytes];
        populated.NewToServerRing().Read(position, back, raw);
        Assert.Equal(piece, back);
    }

    /// <summary>The calling thread's minor page faults so far (/proc/thread-self/stat, field 10).</summary>
    private static long ThreadMinorFaults() =>
        long.Parse(File.ReadAllText("/proc/thread-self/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[7], System.Globalization.CultureInfo.InvariantCulture);

    private async Task<(ModelFile S1, ModelFile S2, Route Route)> DeployPipelineAsync(ClusterCoordinator coordinator)
    {
        var s1 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage1(K, N, 3), "s1.onnx"));
        var s2 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage2(K, N, 3), "s2.onnx"));
        var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
        await coordinator.EnsureModelAsync(wa, s1);
        await coordinator.EnsureModelAsync(wb, s2);
        return (s1, s2, new Route([new RouteStep(wa, s1.Hash, ["x"]), new RouteStep(wb, s2.Hash, ["h", "x"])]));
    }

    private async Task<float[][]> RunPipelineAsync(ClusterCoordinator coordinator, Tensor[] batches)
    {
        var (_, _, route) = await DeployPipelineAsync(coordinator);
        var results = await Task.WhenAll(batches.Select(x => coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"])));
        return [.. results.Select(r => r["y"].ToArray<float>())];
    }

    /// <summary>Plays a server without the token: answers HELLO with a made-up proof and READY as a worker of this host, then lists what the client sent.</summary>
    private static async Task<List<FrameType>> ImpostorAsync(Socket listener)
    {
        using var socket = await listener.AcceptAsync();
        using var stream = new NetworkStream(socket);
        var seen = new List<FrameType>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var header = new byte[FrameHeader.Size];
        while (true)
        {
            if (await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, timeout.Token) < header.Length)
            {
                return seen;
            }

            var parsed = FrameHeader.Read(header);
            await stream.ReadExactlyAsync(new byte[parsed.Length], timeout.Token);
            seen.Add(parsed.Type);
            if (parsed.Type == FrameType.Hello)
            {
                var challenge = new ChallengeMessage(Protocol.Version, new byte[Protocol.NonceBytes], new byte[Protocol.ProofBytes]).Write().Written.ToArray();
                await stream.WriteAsync(RawExchange.Frame(FrameType.Challenge, 0, challenge), timeout.Token);
            }
            else if (parsed.Type == FrameType.Auth)
            {
                var ready = new WorkerInfo("impostor", 1, 0, 0, 0, 0, HostId: HostIdentity.BootId).Write().Written.ToArray();
                await stream.WriteAsync(RawExchange.Frame(FrameType.Ready, 0, ready), timeout.Token);
            }
        }
    }

    /// <summary>The Tessera segments a process has mapped (from /proc/PID/maps, where an unlinked file shows as "(deleted)").</summary>
    internal static List<string> MappedSegments(int pid) =>
        [.. SegmentPattern().Matches(File.ReadAllText($"/proc/{pid}/maps")).Select(m => m.Groups[1].Value).Distinct()];

    private static int CountLog(WorkerProcess worker, string text) => worker.Log.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    [GeneratedRegex(@"/dev/shm/(tessera-[0-9a-f]{32})")]
    private static partial Regex SegmentPattern();
}
