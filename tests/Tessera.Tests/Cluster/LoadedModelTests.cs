using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Cluster.Collective;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Worker;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A loaded model's runs: a caller allowed to run one itself does so only when the session is idle and nothing is
/// queued (its outputs are allocated on its own thread), otherwise the run waits its turn on the model's thread, in
/// arrival order; a run that fails on the caller's thread frees the session like any other.
/// </summary>
public sealed class LoadedModelTests : IDisposable
{
    private const int K = 16;
    private const int N = 24;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task ACallerRunsOnItsOwnThreadOnlyWhenTheSessionIsIdleAndNothingIsQueued()
    {
        var onnx = ClusterFixture.Whole(K, N, 5);
        using var model = Load(onnx);
        var x = ClusterFixture.Random([3, K], 9);
        var expected = ClusterFixture.Reference(onnx, "x", x, "y").Span<float>().ToArray();
        var caller = Thread.CurrentThread;

        // Idle: the run happens here, and its task is complete on return.
        var here = new OutputThreads();
        var inline = model.RunAsync(Feeds(x), allocateOutput: here.Allocate, runHere: true);
        Assert.True(inline.IsCompletedSuccessfully);
        Assert.Equal([caller], here.Threads);
        Assert.Equal(expected, (await inline)["y"].Span<float>().ToArray());

        // Busy: a run held on the model's thread (its output allocation waits for a signal) makes the next callers
        // queue behind it even though they may run here; they run on the model's thread, in order.
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        var held = new OutputThreads { Hold = release, Holding = holding };
        var first = model.RunAsync(Feeds(x), allocateOutput: held.Allocate);
        Assert.True(holding.Wait(Bound), "the model's thread did not start the first run");
        var order = new List<int>();
        var second = new OutputThreads { Order = order, Index = 2 };
        var third = new OutputThreads { Order = order, Index = 3 };
        var secondRun = model.RunAsync(Feeds(x), allocateOutput: second.Allocate, runHere: true);
        var thirdRun = model.RunAsync(Feeds(x), allocateOutput: third.Allocate, runHere: true);
        Assert.False(secondRun.IsCompleted);
        Assert.Empty(second.Threads);
        release.Set();
        var all = Task.WhenAll(first, secondRun, thirdRun);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(Bound)));
        Assert.DoesNotContain(caller, second.Threads.Concat(third.Threads));
        Assert.Equal([2, 3], order);
        Assert.Equal(expected, (await thirdRun)["y"].Span<float>().ToArray());
    }

    [Fact]
    public async Task ARunThatFailsOnTheCallersThreadFreesTheSession()
    {
        var onnx = ClusterFixture.Whole(K, N, 6);
        using var model = Load(onnx);
        var x = ClusterFixture.Random([2, K], 4);

        var failed = model.RunAsync(Feeds(ClusterFixture.Random([2, K + 1], 1)), runHere: true);
        Assert.True(failed.IsFaulted);
        await Assert.ThrowsAnyAsync<Exception>(() => failed);

        // The session is free: the next run is taken here again, and a queued one still reaches the model's thread.
        var here = new OutputThreads();
        var next = model.RunAsync(Feeds(x), allocateOutput: here.Allocate, runHere: true);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.Equal([Thread.CurrentThread], here.Threads);
        var queued = model.RunAsync(Feeds(x));
        Assert.Same(queued, await Task.WhenAny(queued, Task.Delay(Bound)));
        Assert.Equal((await next)["y"].Span<float>().ToArray(), (await queued)["y"].Span<float>().ToArray());
    }

    private LoadedModel Load(OnnxModel onnx)
    {
        var options = new WorkerOptions { Listen = "127.0.0.1:0", Token = _fx.Token, CacheDirectory = _fx.NewCacheDir() };
        var communicator = new NetworkCommunicator(new CollectiveInbox(), new PeerLinks(options, Guid.NewGuid(), NullLogger.Instance), TimeSpan.FromSeconds(5));
        var session = new InferenceSession(onnx, new SessionOptions { Threads = 1, Communicator = communicator });
        return new LoadedModel("00112233445566778899aabbccddeeff", session, communicator, 0, new TensorPool());
    }

    private static Dictionary<string, Tensor> Feeds(Tensor x) => new() { ["x"] = x };

    /// <summary>An output allocator that notes the threads it is called on (and may hold the run there until released).</summary>
    private sealed class OutputThreads
    {
        public List<Thread> Threads { get; } = [];

        public ManualResetEventSlim? Hold { get; init; }

        public ManualResetEventSlim? Holding { get; init; }

        public List<int>? Order { get; init; }

        public int Index { get; init; }

        public Tensor Allocate(DataType type, int[] shape)
        {
            lock (Threads)
            {
                if (Threads.Count == 0 && Order is not null)
                {
                    lock (Order) Order.Add(Index);
                }

                Threads.Add(Thread.CurrentThread);
            }

            Holding?.Set();
            if (Hold is not null && !Hold.Wait(Bound))
            {
                throw new TimeoutException("the test never released the run");
            }

            return Tensor.Allocate(type, shape);
        }
    }
}
