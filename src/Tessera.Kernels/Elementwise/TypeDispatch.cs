using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Maps a run-time <see cref="DataType"/> to a generic instantiation. BFloat16 is the kernels' job (they widen it to float).</summary>
internal static class TypeDispatch
{
    /// <summary>Runs <paramref name="action"/> for a numeric type (bool as byte when <paramref name="boolAsByte"/>); false for any other type.</summary>
    public static bool Numeric<TAction>(DataType type, TAction action, bool boolAsByte = false)
        where TAction : struct, INumericTypeAction
    {
        switch (type)
        {
            case DataType.Float32: action.Invoke<float>(); return true;
            case DataType.Float64: action.Invoke<double>(); return true;
            case DataType.Float16: action.Invoke<Half>(); return true;
            case DataType.Int64: action.Invoke<long>(); return true;
            case DataType.Int32: action.Invoke<int>(); return true;
            case DataType.Int16: action.Invoke<short>(); return true;
            case DataType.Int8: action.Invoke<sbyte>(); return true;
            case DataType.UInt64: action.Invoke<ulong>(); return true;
            case DataType.UInt32: action.Invoke<uint>(); return true;
            case DataType.UInt16: action.Invoke<ushort>(); return true;
            case DataType.UInt8: action.Invoke<byte>(); return true;
            case DataType.Bool when boolAsByte: action.Invoke<byte>(); return true;
            default: return false;
        }
    }

    /// <summary>Runs <paramref name="action"/> for float, double or Half; false for any other type.</summary>
    public static bool Float<TAction>(DataType type, TAction action)
        where TAction : struct, IFloatTypeAction
    {
        switch (type)
        {
            case DataType.Float32: action.Invoke<float>(); return true;
            case DataType.Float64: action.Invoke<double>(); return true;
            case DataType.Float16: action.Invoke<Half>(); return true;
            default: return false;
        }
    }
}
