using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Kernels.Elementwise;

namespace Tessera.Kernels.Fused;

/// <summary>
/// The activation a fused node applies to its output, from the attributes `activation` (Relu, LeakyRelu, Clip,
/// HardSigmoid, HardSwish, Sigmoid, Tanh, Gelu, GeluTanh) and `activation_params` (LeakyRelu [alpha], Clip
/// [min, max], HardSigmoid [alpha, beta]; omitted parameters take the ONNX defaults). <see cref="Apply"/> works in
/// place on small runs (an output tile's row) as well as whole tensors, so kernels call it while the values are hot.
/// </summary>
internal sealed class FusedActivation
{
    // Activations that need a second operand work through a stack buffer of this many floats at a time.
    private const int Chunk = 256;

    private FusedActivation(ActivationKind kind, float alpha, float beta)
    {
        Kind = kind;
        Alpha = alpha;
        Beta = beta;
    }

    public static FusedActivation None { get; } = new(ActivationKind.None, 0f, 0f);

    public ActivationKind Kind { get; }

    /// <summary>LeakyRelu's alpha, Clip's minimum or HardSigmoid's alpha.</summary>
    public float Alpha { get; }

    /// <summary>Clip's maximum or HardSigmoid's beta.</summary>
    public float Beta { get; }

    public bool IsNone => Kind == ActivationKind.None;

    /// <summary>
    /// True when every element is computed with correctly rounded operations only (add, multiply, min/max, select), so
    /// applying it to any pieces of a run gives the same bits; the transcendental activations (Sigmoid, Tanh, Gelu,
    /// GeluTanh) take other code paths for runs shorter than a vector.
    /// </summary>
    public bool IsExactPerElement => Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.LeakyRelu or ActivationKind.Clip
        or ActivationKind.HardSigmoid or ActivationKind.HardSwish;

    /// <summary>The activation of a node's `activation` and `activation_params` attributes; <see cref="None"/> when absent.</summary>
    public static FusedActivation FromAttributes(KernelInfo info)
    {
        string name = info.GetString("activation", string.Empty);
        return name.Length == 0 ? None : Parse(name, info.GetFloats("activation_params"));
    }

    public static FusedActivation Parse(string name, float[]? parameters)
    {
        parameters ??= [];
        float At(int i, float fallback) => i < parameters.Length ? parameters[i] : fallback;
        return name switch
        {
            "" or "None" => None,
            "Relu" => new(ActivationKind.Relu, 0f, 0f),
            "LeakyRelu" => new(ActivationKind.LeakyRelu, At(0, 0.01f), 0f),
            "Clip" => new(ActivationKind.Clip, At(0, float.MinValue), At(1, float.MaxValue)),
            "HardSigmoid" => new(ActivationKind.HardSigmoid, At(0, 0.2f), At(1, 0.5f)),
            "HardSwish" => new(ActivationKind.HardSwish, 1f / 6f, 0.5f),
            "Sigmoid" => new(ActivationKind.Sigmoid, 0f, 0f),
            "Tanh" => new(ActivationKind.Tanh, 0f, 0f),
            "Gelu" => new(ActivationKind.Gelu, 0f, 0f),
            "GeluTanh" => new(ActivationKind.GeluTanh, 0f, 0f),
            _ => throw new KernelException($"unknown fused activation '{name}'"),
        };
    }

    /// <summary>Applies the activation to every value of <paramref name="values"/>, in place.</summary>
    public void Apply(Span<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        switch (Kind)
        {
            case ActivationKind.None:
                break;
            case ActivationKind.Relu:
                TensorPrimitives.Max(values, 0f, values);
                break;
            case ActivationKind.Clip:
                TensorPrimitives.Clamp(values, Alpha, Beta, values);
                break;
            case ActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid(values, values);
                break;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh(values, values);
                break;
            case ActivationKind.HardSigmoid:
            case ActivationKind.HardSwish:
                HardSigmoidMath.Apply(values, values, Alpha, Beta, swish: Kind == ActivationKind.HardSwish);
                break;
            case ActivationKind.Gelu:
                GeluMath.Apply(values, values);
                break;
            case ActivationKind.GeluTanh:
                GeluTanhMath.Apply(values, values);
                break;
            default:
                ApplyChunked(values);
                break;
        }
    }

    private void ApplyChunked(Span<float> values)
    {
        Span<float> buffer = stackalloc float[Chunk];
        for (int start = 0; start < values.Length; start += Chunk)
        {
            var x = values.Slice(start, Math.Min(Chunk, values.Length - start));
            var t = buffer[..x.Length];
            switch (Kind)
            {
                case ActivationKind.LeakyRelu:
                    TensorPrimitives.Multiply(x, Alpha, t);
                    VectorOps.SelectNegative<float>(x, t, x);
                    break;
                default:
                    throw new InvalidOperationException($"activation {Kind} is not chunked");
            }
        }
    }

}
