using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// The window attributes shared by AveragePool and MaxPool, validated once when the kernel is built; the
/// per-input geometry comes from <see cref="Resolve"/>.
/// </summary>
internal sealed class PoolAttributes
{
    private PoolAttributes(string opType, int[] kernel, int[] strides, int[] dilations, int[]? pads, string autoPad, bool ceilMode)
    {
        OpType = opType;
        Kernel = kernel;
        Strides = strides;
        Dilations = dilations;
        Pads = pads;
        AutoPad = autoPad;
        CeilMode = ceilMode;
    }

    public string OpType { get; }

    public int[] Kernel { get; }

    public int[] Strides { get; }

    public int[] Dilations { get; }

    /// <summary>Explicit pads (begins then ends), or null when none were given.</summary>
    public int[]? Pads { get; }

    public string AutoPad { get; }

    public bool CeilMode { get; }

    public int SpatialRank => Kernel.Length;

    public static PoolAttributes Parse(KernelInfo info, bool allowDilations)
    {
        string op = info.OpType;
        long[] kernel = info.GetInts("kernel_shape") ?? throw new KernelException($"{op} needs attribute 'kernel_shape'");
        int rank = kernel.Length;
        if (rank is < 1 or > 3)
        {
            throw new KernelException($"{op} supports 1 to 3 spatial dimensions, not {rank}");
        }

        int[] k = ToPositive(op, "kernel_shape", kernel, rank);
        int[] strides = info.GetInts("strides") is { Length: > 0 } s ? ToPositive(op, "strides", s, rank) : Ones(rank);
        int[] dilations = Ones(rank);
        if (info.GetInts("dilations") is { Length: > 0 } d)
        {
            dilations = ToPositive(op, "dilations", d, rank);
            if (!allowDilations && dilations.Any(x => x != 1))
            {
                throw new KernelException($"{op} at opset {info.OpsetVersion} has no dilations");
            }
        }

        int[]? pads = null;
        if (info.GetInts("pads") is { Length: > 0 } p)
        {
            if (p.Length != 2 * rank)
            {
                throw new KernelException($"{op} pads has {p.Length} values, expected {2 * rank}");
            }

            pads = new int[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                if (p[i] < 0 || p[i] > int.MaxValue / 4)
                {
                    throw new KernelException($"{op} pads must be non-negative, got {p[i]}");
                }

                pads[i] = (int)p[i];
            }
        }

        string autoPad = info.GetString("auto_pad", "NOTSET");
        if (autoPad.Length == 0)
        {
            autoPad = "NOTSET";
        }

        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw new KernelException($"{op} auto_pad '{autoPad}' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
        }

        bool ceil = info.GetInt("ceil_mode", 0) != 0;
        return new PoolAttributes(op, k, strides, dilations, pads, autoPad, ceil);
    }

    /// <summary>Checks the input against the attributes and computes the window geometry for it.</summary>
    public PoolGeometry Resolve(int[] inputShape)
    {
        int rank = SpatialRank;
        if (inputShape.Length != rank + 2)
        {
            throw new KernelException($"{OpType} with a {rank}-D kernel needs a rank-{rank + 2} input, got {ShapeMath.Format(inputShape)}");
        }

        // Missing leading spatial dimensions become size-1 dimensions with a 1-wide window, so one 3-D routine serves all ranks.
        var g = new PoolGeometry(inputShape[0], inputShape[1]);
        int offset = 3 - rank;
        for (int i = 0; i < rank; i++)
        {
            int n = inputShape[i + 2];
            int k = Kernel[i], s = Strides[i], d = Dilations[i];
            long effective = (long)(k - 1) * d + 1;
            int padBegin = Pads?[i] ?? 0, padEnd = Pads?[i + rank] ?? 0;
            long outSize;
            switch (AutoPad)
            {
                case "VALID":
                    padBegin = padEnd = 0;
                    outSize = n >= effective ? (n - effective) / s + 1 : 0;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                    outSize = (n + s - 1) / s;
                    long total = Math.Max(0, (outSize - 1) * s + effective - n);
                    padBegin = (int)(AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
                    padEnd = (int)(total - padBegin);
                    break;
                default:
                    long span = n + (long)padBegin + padEnd - effective;
                    if (span < 0)
                    {
                        outSize = 0;
                    }
                    else if (CeilMode)
                    {
                        outSize = (span + s - 1) / s + 1;

                        // A last window that would start beyond the input and its leading pad is dropped (as PyTorch and ONNX Runtime do).
                        if ((outSize - 1) * s >= n + (long)padBegin)
                        {
                            outSize--;
                        }
                    }
                    else
                    {
                        outSize = span / s + 1;
                    }

                    break;
            }

            if (outSize <= 0)
            {
                throw new KernelException($"{OpType} window {k} (dilation {d}) does not fit input dimension {n} with pads {padBegin},{padEnd}");
            }

            g.SetDimension(offset + i, n, (int)outSize, k, s, d, padBegin, padEnd);
        }

        return g;
    }

    private static int[] ToPositive(string op, string name, long[] values, int rank)
    {
        if (values.Length != rank)
        {
            throw new KernelException($"{op} {name} has {values.Length} values, expected {rank}");
        }

        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            if (values[i] < 1 || values[i] > int.MaxValue / 4)
            {
                throw new KernelException($"{op} {name} must be positive, got {values[i]}");
            }

            result[i] = (int)values[i];
        }

        return result;
    }

    private static int[] Ones(int rank)
    {
        var a = new int[rank];
        Array.Fill(a, 1);
        return a;
    }
}
