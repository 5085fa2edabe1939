using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>The AVX2 kernel's 4 x 24 tiles over whole panels, half by half (<see cref="QgemmTile4x24{TStep, THalves}"/>).</summary>
internal unsafe ref partial struct QgemmBlock
{
    // The end of the whole 16-column panels before lastPanel (only B's last panel may be partial).
    private static int WholePanelsEnd(QgemmPackedB b, int lastPanel) =>
        lastPanel * QgemmConfig.Nr <= b.N ? lastPanel : lastPanel - 1;

    /// <summary>
    /// The block's whole 4-row tiles over panels [firstPanel, endPanel) (all whole), three 8-column halves at a time,
    /// a last step of one or two; returns how many rows that covered (the rest, under 4, are the caller's).
    /// </summary>
    private readonly int RunHalves(QgemmPackedB b, in QgemmOutput output, byte* a, nint lda, int row, int count, int firstPanel, int endPanel, int groups)
    {
        const int mr = QgemmMicroKernelAvx2.Mr;
        int wholeRows = count / mr * mr;
        if (wholeRows == 0) return 0;
        QgemmFloatHalf* halves = stackalloc QgemmFloatHalf[3];
        byte** panels = stackalloc byte*[3];
        QgemmFloatPanel local = default;
        int end = endPanel * 2;
        for (int h = firstPanel * 2; h < end; h += 3)
        {
            int n = Math.Min(3, end - h);
            for (int j = 0; j < n; j++)
            {
                int p = (h + j) >> 1, half = (h + j) & 1;
                QgemmFloatPanel* epilogue = output.Panels + p;
                if (output.Panels is null)
                {
                    local.Set(output, p * QgemmConfig.Nr);
                    epilogue = &local;
                }

                halves[j] = epilogue->Half(half);
                panels[j] = b.Panel(p) + (half * 32);
            }

            for (int r = 0; r < wholeRows; r += mr)
            {
                var sink = new QgemmTile4FloatSink(halves, n, row + r, _sums + r);
                byte* rows = a + (r * lda);
                switch (n)
                {
                    case 3:
                        QgemmTile4x24<QgemmMicroKernelAvx2, QgemmHalves3>.Run(rows, lda, panels[0], panels[1], panels[2], groups, sink);
                        break;
                    case 2:
                        QgemmTile4x24<QgemmMicroKernelAvx2, QgemmHalves2>.Run(rows, lda, panels[0], panels[1], panels[0], groups, sink);
                        break;
                    default:
                        QgemmTile4x24<QgemmMicroKernelAvx2, QgemmHalves1>.Run(rows, lda, panels[0], panels[0], panels[0], groups, sink);
                        break;
                }
            }
        }

        return wholeRows;
    }
}
