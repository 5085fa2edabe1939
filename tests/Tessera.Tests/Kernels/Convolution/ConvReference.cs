namespace Tessera.Tests.Kernels.Convolution;

/// <summary>Direct double-precision convolution and transposed convolution over N-D inputs, one product at a time.</summary>
internal static class ConvReference
{
    /// <summary>Returns (values, scale) where scale sums the magnitudes of every product, to bound float32 rounding.</summary>
    public static (double[] Values, double[] Scale) Conv(float[] x, int[] xShape, float[] w, int[] wShape, float[]? bias,
        int group, int[] strides, int[] dilations, int[] padBegin, int[] outSpatial)
    {
        int rank = xShape.Length - 2;
        int n = xShape[0], c = xShape[1], m = wShape[0], cg = c / group, mg = m / group;
        int[] inSpatial = xShape[2..];
        int[] kernel = wShape[2..];
        int inSize = Product(inSpatial), outSize = Product(outSpatial), kSize = Product(kernel);
        var values = new double[n * m * outSize];
        var scale = new double[values.Length];
        var o = new int[rank];
        var k = new int[rank];
        for (int b = 0; b < n; b++)
        {
            for (int oc = 0; oc < m; oc++)
            {
                int g = oc / mg;
                for (int op = 0; op < outSize; op++)
                {
                    Unflatten(op, outSpatial, o);
                    double sum = bias?[oc] ?? 0, abs = Math.Abs(sum);
                    for (int ic = 0; ic < cg; ic++)
                    {
                        for (int kp = 0; kp < kSize; kp++)
                        {
                            Unflatten(kp, kernel, k);
                            int offset = 0;
                            bool inside = true;
                            for (int d = 0; d < rank; d++)
                            {
                                int i = o[d] * strides[d] - padBegin[d] + k[d] * dilations[d];
                                inside &= i >= 0 && i < inSpatial[d];
                                offset = offset * inSpatial[d] + i;
                            }

                            if (inside)
                            {
                                double p = (double)x[((b * c) + g * cg + ic) * inSize + offset] * w[(oc * cg + ic) * kSize + kp];
                                sum += p;
                                abs += Math.Abs(p);
                            }
                        }
                    }

                    values[(b * m + oc) * outSize + op] = sum;
                    scale[(b * m + oc) * outSize + op] = abs;
                }
            }
        }

        return (values, scale);
    }

    public static (double[] Values, double[] Scale) ConvTranspose(float[] x, int[] xShape, float[] w, int[] wShape, float[]? bias,
        int group, int[] strides, int[] dilations, int[] padBegin, int[] outSpatial)
    {
        int rank = xShape.Length - 2;
        int n = xShape[0], c = xShape[1], cg = c / group, mg = wShape[1], m = mg * group;
        int[] inSpatial = xShape[2..];
        int[] kernel = wShape[2..];
        int inSize = Product(inSpatial), outSize = Product(outSpatial), kSize = Product(kernel);
        var values = new double[n * m * outSize];
        var scale = new double[values.Length];
        for (int b = 0; b < n; b++)
        {
            for (int oc = 0; oc < m; oc++)
            {
                for (int op = 0; op < outSize; op++)
                {
                    values[(b * m + oc) * outSize + op] = bias?[oc] ?? 0;
                    scale[(b * m + oc) * outSize + op] = Math.Abs(bias?[oc] ?? 0);
                }
            }
        }

        var i = new int[rank];
        var k = new int[rank];
        for (int b = 0; b < n; b++)
        {
            for (int ic = 0; ic < c; ic++)
            {
                int g = ic / cg;
                for (int ip = 0; ip < inSize; ip++)
                {
                    Unflatten(ip, inSpatial, i);
                    double xv = x[(b * c + ic) * inSize + ip];
                    for (int j = 0; j < mg; j++)
                    {
                        int oc = g * mg + j;
                        for (int kp = 0; kp < kSize; kp++)
                        {
                            Unflatten(kp, kernel, k);
                            int offset = 0;
                            bool inside = true;
                            for (int d = 0; d < rank; d++)
                            {
                                int o = i[d] * strides[d] - padBegin[d] + k[d] * dilations[d];
                                inside &= o >= 0 && o < outSpatial[d];
                                offset = offset * outSpatial[d] + o;
                            }

                            if (inside)
                            {
                                double p = xv * w[(ic * mg + j) * kSize + kp];
                                values[(b * m + oc) * outSize + offset] += p;
                                scale[(b * m + oc) * outSize + offset] += Math.Abs(p);
                            }
                        }
                    }
                }
            }
        }

        return (values, scale);
    }

    public static int Product(int[] dims)
    {
        int p = 1;
        foreach (int d in dims)
        {
            p *= d;
        }

        return p;
    }

    private static void Unflatten(int flat, int[] dims, int[] index)
    {
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            index[d] = flat % dims[d];
            flat /= dims[d];
        }
    }
}
