using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Cast between every numeric type, bool, float16, bfloat16 and string. Numeric conversions truncate toward zero
/// (float to integer) or round to nearest even (to narrower floats); anything non-zero (NaN included) is true;
/// strings follow NumPy's formatting and parsing. Opset 1 names the target type as a string.
/// </summary>
internal sealed class CastKernel : IKernel
{
    private readonly DataType _to;

    public CastKernel(KernelInfo info)
    {
        var to = info.GetAttribute("to") ?? throw new KernelException("Cast needs attribute 'to'");
        _to = to.Kind == AttributeKind.String ? FromName(to.String) : (DataType)to.Int;
        if (!DataTypes.IsSupported(_to))
        {
            throw new KernelException($"Cast to {DataTypes.Name(_to)} is not supported");
        }
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0);
        if (x.DataType == _to)
        {
            context.SetOutput(0, x);
            return;
        }

        Convert(x, context.AllocateOutput(0, _to, x.Shape));
    }

    /// <summary>Converts every element of <paramref name="source"/> into <paramref name="destination"/>, which has the same shape.</summary>
    public static void Convert(Tensor source, Tensor destination)
    {
        if (source.DataType == DataType.BFloat16)
        {
            source = BFloat16Widening.ToFloat(source);
            if (destination.DataType == DataType.Float32)
            {
                source.Span<float>().CopyTo(destination.Span<float>());
                return;
            }
        }

        if (destination.DataType == DataType.BFloat16)
        {
            var wide = Tensor.Allocate(DataType.Float32, source.Shape);
            Convert(source, wide);
            BFloat16Widening.Narrow(wide, destination);
            return;
        }

        if (source.DataType == DataType.String)
        {
            FromStrings(source.Strings, destination);
            return;
        }

        var sourceType = source.DataType == DataType.Bool ? DataType.UInt8 : source.DataType;
        if (!TypeDispatch.Numeric(sourceType, new FromAction(source, destination)))
        {
            throw ElementTypes.Unsupported("Cast", source.DataType);
        }
    }

    private static void FromStrings(string[] strings, Tensor destination)
    {
        if (destination.DataType == DataType.Bool)
        {
            var d = destination.Span<byte>();
            for (int i = 0; i < strings.Length; i++) d[i] = NumpyParse.ParseBool(strings[i]) ? (byte)1 : (byte)0;
            return;
        }

        if (!TypeDispatch.Numeric(destination.DataType, new ParseAction(strings, destination)))
        {
            throw ElementTypes.Unsupported("Cast", destination.DataType);
        }
    }

    private static DataType FromName(string name) => name.ToUpperInvariant() switch
    {
        "FLOAT" => DataType.Float32,
        "DOUBLE" => DataType.Float64,
        "FLOAT16" => DataType.Float16,
        "BFLOAT16" => DataType.BFloat16,
        "INT8" => DataType.Int8,
        "INT16" => DataType.Int16,
        "INT32" => DataType.Int32,
        "INT64" => DataType.Int64,
        "UINT8" => DataType.UInt8,
        "UINT16" => DataType.UInt16,
        "UINT32" => DataType.UInt32,
        "UINT64" => DataType.UInt64,
        "BOOL" => DataType.Bool,
        "STRING" => DataType.String,
        _ => throw new KernelException($"Cast: unknown target type '{name}'"),
    };

    private readonly struct FromAction(Tensor source, Tensor destination) : INumericTypeAction
    {
        public void Invoke<TFrom>() where TFrom : unmanaged, INumber<TFrom>
        {
            var s = source.Span<TFrom>();
            switch (destination.DataType)
            {
                case DataType.Bool:
                    var b = destination.Span<byte>();
                    for (int i = 0; i < s.Length; i++) b[i] = s[i] != TFrom.Zero ? (byte)1 : (byte)0;
                    return;
                case DataType.String:
                    var strings = destination.Strings;
                    bool isBool = source.DataType == DataType.Bool;
                    for (int i = 0; i < s.Length; i++) strings[i] = isBool ? NumpyFormat.Format(s[i] != TFrom.Zero) : Format(s[i]);
                    return;
                default:
                    if (!TypeDispatch.Numeric(destination.DataType, new ToAction<TFrom>(source, destination)))
                    {
                        throw ElementTypes.Unsupported("Cast", destination.DataType);
                    }

                    return;
            }
        }

        private static string Format<T>(T value) where T : unmanaged, INumber<T>
        {
            if (typeof(T) == typeof(float)) return NumpyFormat.Format(float.CreateTruncating(value));
            if (typeof(T) == typeof(double)) return NumpyFormat.Format(double.CreateTruncating(value));
            if (typeof(T) == typeof(Half)) return NumpyFormat.Format(Half.CreateTruncating(value));
            return value.ToString(null, CultureInfo.InvariantCulture);
        }
    }

    private readonly struct ToAction<TFrom>(Tensor source, Tensor destination) : INumericTypeAction
        where TFrom : unmanaged, INumber<TFrom>
    {
        public void Invoke<TTo>() where TTo : unmanaged, INumber<TTo> =>
            TensorPrimitives.ConvertTruncating<TFrom, TTo>(source.Span<TFrom>(), destination.Span<TTo>());
    }

    private readonly struct ParseAction(string[] strings, Tensor destination) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            var d = destination.Span<T>();
            for (int i = 0; i < strings.Length; i++) d[i] = NumpyParse.Parse<T>(strings[i]);
        }
    }
}
