namespace Tessera.Batch.Scheduling;

/// <summary>The shards still to run, handed out in order to whichever lane asks first (faster workers ask more often).</summary>
internal sealed class ShardQueue(IReadOnlyList<Shard> pending)
{
    private int _next;

    public bool IsEmpty => Remaining == 0;

    public int Remaining => Math.Max(0, pending.Count - Volatile.Read(ref _next));

    public bool TryTake(out Shard shard)
    {
        int i = Interlocked.Increment(ref _next) - 1;
        shard = i < pending.Count ? pending[i] : default;
        return i < pending.Count;
    }
}
