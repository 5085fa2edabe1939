namespace Tessera.Kernels.Resize;

/// <summary>The two source columns and float weights of each output column of a bilinear resize.</summary>
internal sealed class BilinearColumns
{
    public BilinearColumns(AxisTaps columnTaps)
    {
        int outW = columnTaps.OutSize;
        InSize = columnTaps.InSize;
        X0 = new int[outW];
        X1 = new int[outW];
        W0 = new float[outW];
        W1 = new float[outW];
        for (int i = 0; i < outW; i++)
        {
            X0[i] = columnTaps.Index[2 * i];
            X1[i] = columnTaps.Index[2 * i + 1];
            W0[i] = (float)columnTaps.Weight[2 * i];
            W1[i] = (float)columnTaps.Weight[2 * i + 1];
        }
    }

    /// <summary>The input row width.</summary>
    public int InSize { get; }

    public int[] X0 { get; }

    public int[] X1 { get; }

    public float[] W0 { get; }

    public float[] W1 { get; }
}
