using System.Runtime.InteropServices;
using Tessera.Tensors;

namespace Tessera.Kernels.Collective;

/// <summary>
/// The one summation order of AllReduce: rank 0's block, plus rank 1's, ... plus rank Size-1's, element by element.
/// Every communicator uses it so all ranks (and every implementation) produce identical bits.
/// </summary>
public static class CollectiveSum
{
    public static bool IsSupported(DataType elementType) => elementType is DataType.Float32 or DataType.Float64 or DataType.Float16;

    public static void ThrowIfUnsupported(DataType elementType)
    {
        if (!IsSupported(elementType))
        {
            throw new CollectiveException($"AllReduce sums float32, float16 or float64 tensors, not {DataTypes.Name(elementType)}");
        }
    }

    /// <summary>
    /// Sums the <paramref name="blockCount"/> equal blocks of <paramref name="gathered"/> (rank order) into
    /// <paramref name="result"/>, whose length is one block.
    /// </summary>
    public static void SumBlocks(DataType elementType, ReadOnlySpan<byte> gathered, int blockCount, Span<byte> result)
    {
        ThrowIfUnsupported(elementType);
        int block = result.Length;
        if (gathered.Length != (long)block * blockCount)
        {
            throw new ArgumentException($"{gathered.Length} gathered bytes are not {blockCount} blocks of {block}");
        }

        for (int r = 0; r < blockCount; r++)
        {
            Accumulate(elementType, gathered.Slice(r * block, block), result, first: r == 0);
        }
    }

    /// <summary>result = block (first) or result += block, element-wise; the float16 sum is kept in float16 after every add.</summary>
    public static void Accumulate(DataType elementType, ReadOnlySpan<byte> block, Span<byte> result, bool first)
    {
        if (first)
        {
            block.CopyTo(result);
            return;
        }

        switch (elementType)
        {
            case DataType.Float32:
                AddInPlace(MemoryMarshal.Cast<byte, float>(result), MemoryMarshal.Cast<byte, float>(block));
                break;
            case DataType.Float64:
                AddInPlace(MemoryMarshal.Cast<byte, double>(result), MemoryMarshal.Cast<byte, double>(block));
                break;
            case DataType.Float16:
                var sum = MemoryMarshal.Cast<byte, Half>(result);
                var add = MemoryMarshal.Cast<byte, Half>(block);
                for (int i = 0; i < sum.Length; i++)
                {
                    sum[i] = (Half)((float)sum[i] + (float)add[i]);
                }

                break;
            default:
                ThrowIfUnsupported(elementType);
                break;
        }
    }

    private static void AddInPlace(Span<float> sum, ReadOnlySpan<float> add) =>
        System.Numerics.Tensors.TensorPrimitives.Add(sum, add, sum);

    private static void AddInPlace(Span<double> sum, ReadOnlySpan<double> add) =>
        System.Numerics.Tensors.TensorPrimitives.Add(sum, add, sum);
}
