using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Tensors;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Gemm (opset 7+): Y = alpha * op(A) * op(B) + beta * C with C broadcast unidirectionally to (M, N); C is
/// optional from opset 11. A constant float32 B (the usual fully-connected weight) is packed at creation. FusedGemm
/// (domain com.tessera) adds an activation, applied to each output tile as the SGEMM finishes it.
/// </summary>
internal sealed unsafe class GemmKernel : IKernel
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly bool _transA;
    private readonly bool _transB;
    private readonly bool _optionalC;
    private readonly Tensor? _constantB;
    private readonly SgemmPackedB? _packedB;
    private readonly FusedActivation _activation;

    public GemmKernel(KernelInfo info)
    {
        _activation = info.Domain == TesseraDomain.Name ? FusedActivation.FromAttributes(info) : FusedActivation.None;
        _alpha = info.GetFloat("alpha", 1f);
        _beta = info.GetFloat("beta", 1f);
        _transA = info.GetInt("transA", 0) != 0;
        _transB = info.GetInt("transB", 0) != 0;
        _optionalC = info.OpsetVersion >= 11 || info.Domain == TesseraDomain.Name;
        _constantB = info.ConstantInput(1);
        if (_constantB is { DataType: DataType.Float32, Rank: 2 } b && b.Length > 0)
        {
            int k = _transB ? b.Shape[1] : b.Shape[0];
            int n = _transB ? b.Shape[0] : b.Shape[1];
            _packedB = SgemmPackedB.Pack((float*)b.Pointer, b.Shape[1], _transB, k, n);
        }
    }

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0, "A");
        var b = context.RequiredInput(1, "B");
        var c = context.Input(2);
        if (c is null && !_optionalC)
        {
            throw new KernelException("Gemm before opset 11 requires input C");
        }

        if (a.Rank != 2 || b.Rank != 2)
        {
            throw new KernelException($"Gemm needs 2-D A and B, got {ShapeMath.Format(a.Shape)} and {ShapeMath.Format(b.Shape)}");
        }

        if (a.DataType != b.DataType || (c is not null && c.DataType != a.DataType))
        {
            throw new KernelException("Gemm inputs must share one element type");
        }

        int m = _transA ? a.Shape[1] : a.Shape[0];
        int k = _transA ? a.Shape[0] : a.Shape[1];
        int kb = _transB ? b.Shape[1] : b.Shape[0];
        int n = _transB ? b.Shape[0] : b.Shape[1];
        if (k != kb)
        {
            throw new KernelException($"Gemm inner dimensions differ: op(A) is {m}x{k}, op(B) is {kb}x{n}");
        }

        if (c is not null)
        {
            CheckBias(c, m, n);
        }

        var y = context.AllocateOutput(0, a.DataType, [m, n]);
        if (y.Length == 0)
        {
            return;
        }

        bool useC = c is not null && _beta != 0f;
        if (!_activation.IsNone && a.DataType is not (DataType.Float32 or DataType.Float16 or DataType.BFloat16))
        {
            throw new KernelException($"FusedGemm does not support {DataTypes.Name(a.DataType)}");
        }

        switch (a.DataType)
        {
            case DataType.Float32:
                ComputeFloat(a, b, useC ? c : null, y, m, n, k, context.Parallel);
                break;
            case DataType.Float16 or DataType.BFloat16:
                var wide = Tensor.Allocate(DataType.Float32, y.Shape);
                ComputeFloat(FloatStaging.Widen(a)!, FloatStaging.Widen(b)!, useC ? FloatStaging.Widen(c) : null, wide, m, n, k, context.Parallel);
                FloatStaging.Narrow(wide, y);
                break;
            case DataType.Float64:
                ComputeGeneric<double>(a, b, useC ? c : null, y, m, n, k, context.Parallel);
                break;
            case DataType.Int32:
                ComputeGeneric<int>(a, b, useC ? c : null, y, m, n, k, context.Parallel);
                break;
            case DataType.Int64:
                ComputeGeneric<long>(a, b, useC ? c : null, y, m, n, k, context.Parallel);
                break;
            case DataType.UInt32:
                ComputeGeneric<uint>(a, b, useC ? c : null, y, m, n, k, context.Parallel);
                break;
            case DataType.UInt64:
                ComputeGeneric<ulong>(a, b, useC ? c : null, y, m, n, k, context.Parallel);
                break;
            default:
                throw new KernelException($"Gemm does not support {DataTypes.Name(a.DataType)}");
        }

        // The products work on raw pointers: keep the tensors alive until they are done.
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        GC.KeepAlive(y);
    }

    private void ComputeFloat(Tensor a, Tensor b, Tensor? c, Tensor y, int m, int n, int k, ParallelRunner parallel)
    {
        float* py = (float*)y.Pointer;

        // A bias row (the fully-connected case) is added to each finished tile; other shapes pre-fill Y.
        bool rowVector = c is not null && _beta == 1f && c.Rank >= 1 && c.Shape[^1] == n && c.Length == n;
        float* columnBias = rowVector ? (float*)c!.Pointer : null;
        if (c is not null && !rowVector)
        {
            FillBias((float*)c.Pointer, c.Shape, _beta, py, m, n);
        }

        float beta = c is not null && !rowVector ? 1f : 0f;
        var epilogue = new SgemmEpilogue(null, columnBias, _activation);
        if (_packedB is not null && ReferenceEquals(b, _constantB) && k > 0)
        {
            Sgemm.Multiply(_transA, m, _alpha, (float*)a.Pointer, a.Shape[1], _packedB, beta, py, n, parallel, epilogue);
        }
        else
        {
            Sgemm.Multiply(_transA, _transB, m, n, k, _alpha, (float*)a.Pointer, a.Shape[1], (float*)b.Pointer, b.Shape[1],
                beta, py, n, parallel, epilogue: epilogue);
        }
    }

    private void ComputeGeneric<T>(Tensor a, Tensor b, Tensor? c, Tensor y, int m, int n, int k, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
    {
        T* py = (T*)y.Pointer;
        if (c is not null)
        {
            FillBias((T*)c.Pointer, c.Shape, T.CreateSaturating(_beta), py, m, n);
        }

        T beta = c is not null ? T.One : T.Zero;
        if (k == 0 && c is null)
        {
            y.Bytes.Clear();
            return;
        }

        GenericGemm<T>.Multiply(_transA, _transB, m, n, k, T.CreateSaturating(_alpha), (T*)a.Pointer, a.Shape[1],
            (T*)b.Pointer, b.Shape[1], beta, py, n, parallel);
    }

    private static void CheckBias(Tensor c, int m, int n)
    {
        int rows = c.Rank == 2 ? c.Shape[0] : 1;
        int cols = c.Rank >= 1 ? c.Shape[^1] : 1;
        if (c.Rank > 2 || (rows != 1 && rows != m) || (cols != 1 && cols != n))
        {
            throw new KernelException($"Gemm C of shape {ShapeMath.Format(c.Shape)} does not broadcast to [{m},{n}]");
        }
    }

    /// <summary>y = beta * C broadcast to (M, N).</summary>
    private static void FillBias<T>(T* c, int[] shape, T beta, T* y, int m, int n)
        where T : unmanaged, INumber<T>
    {
        int rows = shape.Length == 2 ? shape[0] : 1;
        int cols = shape.Length >= 1 ? shape[^1] : 1;
        for (int i = 0; i < m; i++)
        {
            T* src = c + (rows == 1 ? 0 : (long)i * cols);
            var dst = new Span<T>(y + (long)i * n, n);
            if (cols == 1)
            {
                dst.Fill(beta * src[0]);
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    dst[j] = beta * src[j];
                }
            }
        }
    }
}
