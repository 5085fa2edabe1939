namespace Tessera.Cli.Ocr;

/// <summary>
/// Cuts a detected line out of its page as an upright rectangle (PaddleOCR's get_rotate_crop_image): the box is
/// mapped onto a rectangle as long as its longer opposite sides by a perspective transform; a crop at least 1.5
/// times taller than wide is a vertical line and is turned a quarter counter-clockwise.
/// </summary>
internal static class LineCropper
{
    public static RgbImage Crop(RgbImage page, Quad box)
    {
        int width = Math.Max(1, (int)Math.Max((box.TopLeft - box.TopRight).Length, (box.BottomRight - box.BottomLeft).Length));
        int height = Math.Max(1, (int)Math.Max((box.TopLeft - box.BottomLeft).Length, (box.TopRight - box.BottomRight).Length));
        double[] h = Homography(width, height, box);
        var crop = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double w = h[6] * x + h[7] * y + 1;
                double sx = (h[0] * x + h[1] * y + h[2]) / w, sy = (h[3] * x + h[4] * y + h[5]) / w;
                Sample(page, sx, sy, crop.Pixels.AsSpan((y * width + x) * 3, 3));
            }
        }

        return crop.Height >= crop.Width * 1.5 ? crop.RotateCounterClockwise() : crop;
    }

    /// <summary>Bilinear, with the page's edge pixels repeated beyond it.</summary>
    private static void Sample(RgbImage page, double x, double y, Span<byte> into)
    {
        x = Math.Clamp(x, 0, page.Width - 1);
        y = Math.Clamp(y, 0, page.Height - 1);
        int x0 = (int)x, y0 = (int)y;
        int x1 = Math.Min(x0 + 1, page.Width - 1), y1 = Math.Min(y0 + 1, page.Height - 1);
        double fx = x - x0, fy = y - y0;
        byte[] p = page.Pixels;
        for (int c = 0; c < 3; c++)
        {
            double top = p[(y0 * page.Width + x0) * 3 + c] * (1 - fx) + p[(y0 * page.Width + x1) * 3 + c] * fx;
            double bottom = p[(y1 * page.Width + x0) * 3 + c] * (1 - fx) + p[(y1 * page.Width + x1) * 3 + c] * fx;
            into[c] = (byte)Math.Clamp(Math.Round(top * (1 - fy) + bottom * fy), 0, 255);
        }
    }

    /// <summary>
    /// The projective map from the crop's corners (0,0), (w,0), (w,h), (0,h) to the box's corners, as the eight
    /// coefficients h0..h7 of x' = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), y' likewise with h3..h5.
    /// </summary>
    private static double[] Homography(int width, int height, Quad box)
    {
        var from = new Point[] { new(0, 0), new(width, 0), new(width, height), new(0, height) };
        var a = new double[8, 9];
        for (int i = 0; i < 4; i++)
        {
            double x = from[i].X, y = from[i].Y, u = box[i].X, v = box[i].Y;
            double[] rowU = [x, y, 1, 0, 0, 0, -x * u, -y * u, u];
            double[] rowV = [0, 0, 0, x, y, 1, -x * v, -y * v, v];
            for (int j = 0; j < 9; j++)
            {
                a[2 * i, j] = rowU[j];
                a[2 * i + 1, j] = rowV[j];
            }
        }

        return Solve(a);
    }

    /// <summary>Gaussian elimination with partial pivoting on an 8 × 9 augmented matrix.</summary>
    private static double[] Solve(double[,] a)
    {
        const int n = 8;
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            }

            if (Math.Abs(a[pivot, col]) < 1e-12) throw new InvalidOperationException("a degenerate box has no perspective transform");
            for (int j = 0; j <= n; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
            for (int r = 0; r < n; r++)
            {
                if (r == col) continue;
                double f = a[r, col] / a[col, col];
                for (int j = col; j <= n; j++) a[r, j] -= f * a[col, j];
            }
        }

        var h = new double[n];
        for (int i = 0; i < n; i++) h[i] = a[i, n] / a[i, i];
        return h;
    }
}
