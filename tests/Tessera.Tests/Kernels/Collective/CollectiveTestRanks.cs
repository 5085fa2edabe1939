namespace Tessera.Tests.Kernels.Collective;

/// <summary>Runs one action per rank, each on its own thread, and returns what each returned or threw.</summary>
internal static class CollectiveTestRanks
{
    public static (T? Result, Exception? Error)[] Run<T>(int ranks, Func<int, T> body, TimeSpan? limit = null)
    {
        var results = new (T? Result, Exception? Error)[ranks];
        var threads = Enumerable.Range(0, ranks).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = (body(rank), null);
            }
            catch (Exception e)
            {
                results[rank] = (default, e);
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads) thread.Start();
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(20));
        foreach (var thread in threads)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.True(thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero), "a rank hung");
        }

        return results;
    }
}
