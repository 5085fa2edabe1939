using Tessera.Tensors;

namespace Tessera.Kernels.Collective;

/// <summary>One rank of an <see cref="InMemoryCollectiveGroup"/>: reads the peers' blocks in place between two barriers.</summary>
internal sealed unsafe class InMemoryCommunicator(InMemoryCollectiveGroup group, int rank) : ICollectiveCommunicator
{
    // The sum under construction; a rank runs one collective at a time, so one buffer per rank suffices.
    private byte[] _sum = [];

    public int Rank { get; } = rank;

    public int Size => group.Size;

    public void AllGather(string key, ReadOnlySpan<byte> local, Span<byte> gathered)
    {
        if (gathered.Length != (long)local.Length * Size)
        {
            throw new ArgumentException($"AllGather '{key}': {gathered.Length} bytes cannot hold {Size} blocks of {local.Length}");
        }

        fixed (byte* data = local)
        {
            group.Publish(Rank, key, (nint)data, local.Length);
            for (int r = 0; r < Size; r++)
            {
                new ReadOnlySpan<byte>((byte*)group.BlockOf(r), local.Length).CopyTo(gathered.Slice(r * local.Length, local.Length));
            }

            // Nobody may leave (and reuse its block) before every rank has copied it.
            group.Barrier(Rank, key);
        }
    }

    public void AllReduceSum(string key, DataType elementType, Span<byte> data)
    {
        CollectiveSum.ThrowIfUnsupported(elementType);
        if (Size == 1)
        {
            return;
        }

        // Each rank sums every block itself, in rank order, into private storage; only after the second barrier (all
        // reads done) may it overwrite its own block with the result.
        if (_sum.Length < data.Length)
        {
            _sum = new byte[data.Length];
        }

        var sum = _sum.AsSpan(0, data.Length);
        fixed (byte* own = data)
        {
            group.Publish(Rank, key, (nint)own, data.Length);
            for (int r = 0; r < Size; r++)
            {
                CollectiveSum.Accumulate(elementType, new ReadOnlySpan<byte>((byte*)group.BlockOf(r), data.Length), sum, first: r == 0);
            }

            group.Barrier(Rank, key);
        }

        sum.CopyTo(data);
    }
}
