using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Tensors;

namespace Tessera.Kernels.Linear;

/// <summary>
/// MatMul (numpy semantics), and FusedMatMul (domain com.tessera): MatMul plus an optional 1-D bias over the last
/// dimension (input 2) and an activation, both applied to each output tile as the SGEMM finishes it. float32 runs
/// on the packed SGEMM, with a constant 2-D B packed once at creation; float16/bfloat16 are staged through float32;
/// float64 and integers use the generic row kernel (plain MatMul only).
/// </summary>
internal sealed unsafe class MatMulKernel : IKernel
{
    // Batches of GEMMs below this many multiply-adds each run one GEMM per thread instead of splitting each GEMM
    // (attention's per-head products); larger ones also do when there are enough of them to balance.
    private const long SmallGemm = 1L << 22;

    private readonly Tensor? _constantB;
    private readonly SgemmPackedB? _packedB;
    private readonly bool _fused;
    private readonly FusedActivation _activation;
    private MatMulShape? _shape;

    public MatMulKernel(KernelInfo info)
    {
        _fused = info.Domain == TesseraDomain.Name;
        _activation = _fused ? FusedActivation.FromAttributes(info) : FusedActivation.None;
        _constantB = info.ConstantInput(1);
        if (_constantB is { DataType: DataType.Float32, Rank: 2 } b && b.Shape[0] > 0 && b.Shape[1] > 0)
        {
            _packedB = SgemmPackedB.Pack((float*)b.Pointer, b.Shape[1], false, b.Shape[0], b.Shape[1]);
        }
    }

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0, "A");
        var b = context.RequiredInput(1, "B");
        if (a.DataType != b.DataType)
        {
            throw new KernelException($"MatMul inputs differ in type: {DataTypes.Name(a.DataType)} and {DataTypes.Name(b.DataType)}");
        }

        var shape = _shape is not null && _shape.Matches(a.Shape, b.Shape) ? _shape : _shape = MatMulShape.Create(a.Shape, b.Shape);
        var bias = _fused ? context.Input(2) : null;
        if (bias is not null && (bias.DataType != a.DataType || bias.Rank != 1 || bias.Shape[0] != shape.N))
        {
            throw new KernelException($"FusedMatMul bias {ShapeMath.Format(bias.Shape)} is not a vector of the {shape.N} output columns");
        }

        var y = context.AllocateOutput(0, a.DataType, shape.OutputShape);
        if (y.Length == 0)
        {
            return;
        }

        bool epilogue = bias is not null || !_activation.IsNone;
        if (epilogue && a.DataType is not (DataType.Float32 or DataType.Float16 or DataType.BFloat16))
        {
            throw new KernelException($"FusedMatMul does not support {DataTypes.Name(a.DataType)}");
        }

        if (shape.K == 0 && !epilogue)
        {
            y.Bytes.Clear();
            return;
        }

        switch (a.DataType)
        {
            case DataType.Float32:
                MultiplyFloat(a, b, bias, y, shape, context.Parallel);
                break;
            case DataType.Float16 or DataType.BFloat16:
                var wide = Tensor.Allocate(DataType.Float32, y.Shape);
                MultiplyFloat(FloatStaging.Widen(a)!, FloatStaging.Widen(b)!, FloatStaging.Widen(bias), wide, shape, context.Parallel);
                FloatStaging.Narrow(wide, y);
                break;
            case DataType.Float64:
                MultiplyGeneric<double>(a, b, y, shape, context.Parallel);
                break;
            case DataType.Int32:
                MultiplyGeneric<int>(a, b, y, shape, context.Parallel);
                break;
            case DataType.Int64:
                MultiplyGeneric<long>(a, b, y, shape, context.Parallel);
                break;
            case DataType.UInt32:
                MultiplyGeneric<uint>(a, b, y, shape, context.Parallel);
                break;
            case DataType.UInt64:
                MultiplyGeneric<ulong>(a, b, y, shape, context.Parallel);
                break;
            default:
                throw new KernelException($"MatMul does not support {DataTypes.Name(a.DataType)}");
        }

        // The products work on raw pointers: keep the tensors alive until they are done.
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(bias);
        GC.KeepAlive(y);
    }

    private void MultiplyFloat(Tensor a, Tensor b, Tensor? bias, Tensor y, MatMulShape s, ParallelRunner parallel)
    {
        float* pa = (float*)a.Pointer, pb = (float*)b.Pointer, py = (float*)y.Pointer;
        int m = s.M, n = s.N, k = s.K;
        var epilogue = new SgemmEpilogue(null, bias is null ? null : (float*)bias.Pointer, _activation);
        var packed = _packedB is not null && ReferenceEquals(b, _constantB) ? _packedB : null;
        if (s.FoldsIntoRows)
        {
            int rows = s.BatchCount * m;
            if (packed is not null)
            {
                Sgemm.Multiply(false, rows, 1f, pa, k, packed, 0f, py, n, parallel, epilogue);
            }
            else
            {
                Sgemm.Multiply(false, false, rows, n, k, 1f, pa, k, pb, n, 0f, py, n, parallel, epilogue: epilogue);
            }

            return;
        }

        var aOffsets = s.AOffsets;
        var bOffsets = s.BOffsets;
        int degree = parallel.Degree;
        long work = (long)m * n * k;
        if (degree > 1 && s.BatchCount >= degree && (work < SmallGemm || s.BatchCount >= 4 * degree))
        {
            var batch = new MatMulBatchBody(pa, pb, py, aOffsets, bOffsets, m, n, k, epilogue);
            parallel.ForRange(s.BatchCount, 1, ref batch);
            return;
        }

        for (int i = 0; i < s.BatchCount; i++)
        {
            Sgemm.Multiply(false, false, m, n, k, 1f, pa + aOffsets[i], k, pb + bOffsets[i], n, 0f, py + (long)i * m * n, n, parallel,
                epilogue: epilogue);
        }
    }

    private static void MultiplyGeneric<T>(Tensor a, Tensor b, Tensor y, MatMulShape s, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
    {
        T* pa = (T*)a.Pointer, pb = (T*)b.Pointer, py = (T*)y.Pointer;
        int m = s.M, n = s.N, k = s.K;
        for (int i = 0; i < s.BatchCount; i++)
        {
            GenericGemm<T>.Multiply(false, false, m, n, k, T.One, pa + s.AOffsets[i], k, pb + s.BOffsets[i], n, T.Zero,
                py + (long)i * m * n, n, parallel);
        }
    }
}
