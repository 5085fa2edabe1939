using Tessera.Kernels.Core;

namespace Tessera.Tests.Kernels.Core;

public class ParallelRunnerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryIndexRunsExactlyOnce(int degree)
    {
        var parallel = new ParallelRunner(degree);
        foreach (int total in new[] { 0, 1, 2, 3, 7, 64, 1000, 100_003 })
        {
            var hits = new int[total];
            parallel.For(total, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));

            Array.Clear(hits);
            int calls = 0;
            parallel.ForRange(total, 10, (start, end) =>
            {
                Interlocked.Increment(ref calls);
                for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
            });
            Assert.All(hits, h => Assert.Equal(1, h));
            Assert.Equal(parallel.ChunkCount(total, 10), calls);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryChunkRunsExactlyOnce(int degree)
    {
        var parallel = new ParallelRunner(degree);
        for (int chunks = 1; chunks <= 40; chunks++)
        {
            foreach (int total in new[] { chunks, 97, 1000 })
            {
                var hits = new int[total];
                var body = new CountBody(hits);
                parallel.ForChunks(total, chunks, ref body);
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }
    }

    [Fact]
    public void ChunksOfAThreadThatIsHeldUpAreTakenOverByTheOthers()
    {
        // The first chunk (the calling thread's share) holds its thread until every other chunk has run, which only
        // happens if the worker takes over the rest of that share as well as running its own.
        var parallel = new ParallelRunner(2);
        for (int round = 0; round < 20; round++)
        {
            const int chunks = 8;
            var done = new int[1];
            var body = new HoldFirstBody(done, chunks);
            parallel.ForChunks(chunks, chunks, ref body);
            Assert.Equal(chunks, done[0]);
        }
    }

    [Fact]
    public void NestedLoopsRunInlineInsteadOfDeadlocking()
    {
        var parallel = new ParallelRunner(3);
        var hits = new int[40 * 50];
        parallel.ForRange(40, 1, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                int row = i;
                parallel.ForRange(50, 1, (s, e) =>
                {
                    for (int j = s; j < e; j++) Interlocked.Increment(ref hits[(row * 50) + j]);
                });
            }
        });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void AnExceptionInAnyChunkReachesTheCallerAndThePoolStaysUsable()
    {
        var parallel = new ParallelRunner(2);
        for (int round = 0; round < 20; round++)
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                parallel.ForRange(1000, 1, (start, end) => { if (end == 1000) throw new InvalidOperationException("boom"); }));
            Assert.Equal("boom", e.Message);
        }

        long sum = 0;
        parallel.ForRange(1000, 1, (start, end) => Interlocked.Add(ref sum, end - start));
        Assert.Equal(1000, sum);
    }

    [Fact]
    public void ConcurrentCallersOfOneDegreeAllFinish()
    {
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var parallel = new ParallelRunner(2);
            for (int round = 0; round < 500; round++)
            {
                long sum = 0;
                parallel.ForRange(10_000, 100, (start, end) => Interlocked.Add(ref sum, end - start));
                Assert.Equal(10_000, sum);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void ATraceRecordsWhoRanEachChunkAndItsCpuTime()
    {
        // Degree 5 is this test's own pool, so no other test's loops land in the trace. The first chunk the calling
        // thread runs waits for all the others, which the workers must therefore run: 1 chunk on the caller and 5 on the
        // workers (or 0 and 6, should the workers claim every chunk before the caller claims one).
        const int degree = 5, chunks = 6;
        var pool = WorkerPool.Shared(degree);
        var trace = new WorkerPoolTrace(16, 256);
        pool.Trace = trace;
        try
        {
            var parallel = new ParallelRunner(degree);
            var done = new int[1];
            var body = new HoldCallerBody(Environment.CurrentManagedThreadId, done, chunks);
            parallel.ForChunks(chunks, chunks, ref body);
            Assert.Equal(chunks, done[0]);
        }
        finally
        {
            pool.Trace = null;
        }

        var loop = Assert.Single(trace.Loops.ToArray());
        Assert.Equal("ParallelRunnerTests.HoldCallerBody", trace.BodyName(loop.Body));
        Assert.Equal(chunks, loop.Chunks);
        Assert.InRange(loop.CallerChunks, 0, 1);
        Assert.Equal(chunks - loop.CallerChunks, loop.WorkerChunks);
        Assert.True(loop.Posted <= loop.CallerDone && loop.CallerDone <= loop.Ended);
        Assert.True(loop.CallerChunks == 0 || loop.CallerCpu > 0, "the caller's chunk spun until the others were done");
        var recorded = trace.Chunks.ToArray();
        Assert.Equal(Enumerable.Range(0, chunks), recorded.Select(c => c.Index).Order());
        Assert.All(recorded, c => Assert.Equal(0, c.Loop));
        Assert.All(recorded, c => Assert.True(c.Cpu >= 0));
        Assert.Equal(loop.CallerChunks, recorded.Count(c => c.Participant == 0));
        Assert.All(recorded, c => Assert.InRange(c.Participant, 0, degree - 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void StructBodiesAllocateNothing(int degree)
    {
        var parallel = new ParallelRunner(degree);
        var data = new long[4096];
        var body = new FillBody(data);
        parallel.ForRange(data.Length, 64, ref body); // warm up the JIT and the workers
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            parallel.ForRange(data.Length, 64, ref body);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.All(data, v => Assert.Equal(101, v));
    }

    private readonly struct CountBody(int[] hits) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
        }
    }

    private readonly struct HoldFirstBody(int[] done, int chunks) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            if (start == 0)
            {
                // Bounded, so a failure to take over shows as a wrong count rather than a hung test run.
                var spin = default(SpinWait);
                long giveUp = Environment.TickCount64 + 60_000;
                while (Volatile.Read(ref done[0]) < chunks - 1 && Environment.TickCount64 < giveUp) spin.SpinOnce();
            }

            Interlocked.Increment(ref done[0]);
        }
    }

    private readonly struct HoldCallerBody(int callerThread, int[] done, int chunks) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            if (Environment.CurrentManagedThreadId == callerThread)
            {
                // Bounded, so workers that never come show as a wrong count rather than a hung test run.
                var spin = default(SpinWait);
                long giveUp = Environment.TickCount64 + 60_000;
                while (Volatile.Read(ref done[0]) < chunks - 1 && Environment.TickCount64 < giveUp) spin.SpinOnce();
            }

            Interlocked.Increment(ref done[0]);
        }
    }

    private readonly struct FillBody(long[] data) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) data[i]++;
        }
    }
}
