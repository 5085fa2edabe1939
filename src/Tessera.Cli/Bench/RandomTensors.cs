using Tessera.Cli.Common;
using Tessera.Tensors;

namespace Tessera.Cli.Bench;

/// <summary>
/// Repeatable random inputs: floating point uniform in [-1, 1), integers uniform in LO..HI (0..99 unless a
/// --shape range says otherwise, which stays inside any vocabulary and any index range a benchmark model uses),
/// bool 0 or 1.
/// </summary>
internal static class RandomTensors
{
    public const long DefaultLow = 0;
    public const long DefaultHigh = 99;

    public static Tensor Create(string name, DataType type, int[] shape, long? low, long? high, Random random)
    {
        long lo = low ?? DefaultLow, hi = high ?? DefaultHigh;
        var t = Tensor.Allocate(type, shape);
        switch (type)
        {
            case DataType.Float32: Fill(t.Span<float>(), random, v => (float)v); break;
            case DataType.Float64: Fill(t.Span<double>(), random, v => v); break;
            case DataType.Float16: Fill(t.Span<Half>(), random, v => (Half)v); break;
            case DataType.BFloat16: Fill(t.Span<BFloat16>(), random, v => (BFloat16)(float)v); break;
            case DataType.Bool: FillInts(t.Span<byte>(), random, 0, 1, v => (byte)v); break;
            case DataType.Int64: FillInts(t.Span<long>(), random, lo, hi, v => v); break;
            case DataType.Int32: FillInts(t.Span<int>(), random, Clamp(name, lo, hi, int.MinValue, int.MaxValue), hi, v => (int)v); break;
            case DataType.Int16: FillInts(t.Span<short>(), random, Clamp(name, lo, hi, short.MinValue, short.MaxValue), hi, v => (short)v); break;
            case DataType.Int8: FillInts(t.Span<sbyte>(), random, Clamp(name, lo, hi, sbyte.MinValue, sbyte.MaxValue), hi, v => (sbyte)v); break;
            case DataType.UInt64: FillInts(t.Span<ulong>(), random, Clamp(name, lo, hi, 0, long.MaxValue), hi, v => (ulong)v); break;
            case DataType.UInt32: FillInts(t.Span<uint>(), random, Clamp(name, lo, hi, 0, uint.MaxValue), hi, v => (uint)v); break;
            case DataType.UInt16: FillInts(t.Span<ushort>(), random, Clamp(name, lo, hi, 0, ushort.MaxValue), hi, v => (ushort)v); break;
            case DataType.UInt8: FillInts(t.Span<byte>(), random, Clamp(name, lo, hi, 0, byte.MaxValue), hi, v => (byte)v); break;
            default: throw new CliException($"input '{name}' is {DataTypes.Name(type)}: random data of that type is not supported; give a file with --input");
        }

        return t;
    }

    private static void Fill<T>(Span<T> span, Random random, Func<double, T> convert)
    {
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = convert(random.NextDouble() * 2 - 1);
        }
    }

    private static void FillInts<T>(Span<T> span, Random random, long low, long high, Func<long, T> convert)
    {
        for (int i = 0; i < span.Length; i++)
        {
            // NextInt64's upper bound is exclusive; high == long.MaxValue would overflow, so it stays exclusive there.
            span[i] = convert(random.NextInt64(low, high == long.MaxValue ? high : high + 1));
        }
    }

    private static long Clamp(string name, long low, long high, long min, long max) =>
        low >= min && high <= max ? low : throw new CliException($"input '{name}': the range {low}..{high} does not fit its element type");
}
