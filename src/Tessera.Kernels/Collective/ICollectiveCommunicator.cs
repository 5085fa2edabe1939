using Tessera.Tensors;

namespace Tessera.Kernels.Collective;

/// <summary>
/// One rank's end of a group of <see cref="Size"/> ranks that run the shards of one model together and exchange
/// blocks of bytes at the collective operators (com.tessera AllReduce and AllGather).
/// </summary>
/// <remarks>
/// Every rank must call the same collectives, with the same keys, in the same order, and with blocks of the same
/// length; an implementation reports a rank that does not arrive within its timeout, or a disagreement on key or
/// length, with a <see cref="CollectiveException"/> rather than waiting for ever. The only primitive an
/// implementation must provide is <see cref="AllGather"/>, which a network implementation can do with one message
/// to each peer; <see cref="AllReduceSum"/> is by default a gather followed by a sum in rank order 0..Size-1
/// (<see cref="CollectiveSum"/>), so every rank gets the same bits whichever implementation runs it.
/// </remarks>
public interface ICollectiveCommunicator
{
    /// <summary>This rank's number, 0..Size-1.</summary>
    int Rank { get; }

    /// <summary>Number of ranks in the group.</summary>
    int Size { get; }

    /// <summary>
    /// Contributes <paramref name="local"/> and receives every rank's block: afterwards <paramref name="gathered"/>
    /// (Size × local.Length bytes) holds rank 0's block, then rank 1's, and so on, on every rank.
    /// </summary>
    void AllGather(string key, ReadOnlySpan<byte> local, Span<byte> gathered);

    /// <summary>
    /// Replaces <paramref name="data"/> (elements of <paramref name="elementType"/>: Float32, Float16 or Float64) by its
    /// element-wise sum over all ranks, added in rank order 0..Size-1 so that every rank ends with identical bits.
    /// </summary>
    void AllReduceSum(string key, DataType elementType, Span<byte> data)
    {
        CollectiveSum.ThrowIfUnsupported(elementType);
        if (Size == 1)
        {
            return;
        }

        var gathered = new byte[checked(data.Length * Size)];
        AllGather(key, data, gathered);
        CollectiveSum.SumBlocks(elementType, gathered, Size, data);
    }
}
