using System.Numerics;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Indexing;

/// <summary>How ScatterElements/ScatterND combine an update with the existing value.</summary>
internal enum ScatterReduction
{
    None,
    Add,
    Mul,
    Max,
    Min,
}

internal static class ScatterReductions
{
    public static ScatterReduction Parse(string value, int opset, string op)
    {
        var reduction = value switch
        {
            "none" => ScatterReduction.None,
            "add" => ScatterReduction.Add,
            "mul" => ScatterReduction.Mul,
            "max" => ScatterReduction.Max,
            "min" => ScatterReduction.Min,
            _ => throw new KernelException($"{op} reduction '{value}' is not one of none, add, mul, max, min"),
        };
        if ((reduction is ScatterReduction.Max or ScatterReduction.Min && opset < 18) || (reduction != ScatterReduction.None && opset < 16))
        {
            throw new KernelException($"{op} reduction '{value}' needs a newer opset than {opset}");
        }

        return reduction;
    }

    public static T Combine<T>(T current, T update, ScatterReduction reduction) where T : INumber<T> => reduction switch
    {
        ScatterReduction.Add => current + update,
        ScatterReduction.Mul => current * update,
        ScatterReduction.Max => T.Max(current, update),
        ScatterReduction.Min => T.Min(current, update),
        _ => update,
    };
}
