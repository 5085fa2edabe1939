using Tessera.Cli.Ocr;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Tests.Cli.Ocr;

/// <summary>DB post-processing: hand-checked small maps, and PaddleOCR's own code (OpenCV, pyclipper) on the same maps.</summary>
public sealed class DbPostProcessorTests
{
    [Fact]
    public void ABlockOfTextProbabilityBecomesItsBoxGrownByTheUnclipDistance()
    {
        // Pixels x 10..49, y 20..29: the pixel centres span 39 x 9, so d = 39 * 9 * 1.5 / (2 * (39 + 9)) = 5.484375
        // and the box is x 4.52..54.48, y 14.52..34.48, rounded to whole pixels.
        var map = new float[64 * 48];
        for (int y = 20; y < 30; y++)
        {
            for (int x = 10; x < 50; x++) map[y * 64 + x] = 0.9f;
        }

        var box = Assert.Single(DbPostProcessor.Boxes(map, 64, 48, 64, 48, new DbSettings()));
        Assert.Equal(new Quad(new(5, 15), new(54, 15), new(54, 34), new(5, 34)), box.Box);
        Assert.Equal(0.9, box.Score, 5);

        // The same map for an image twice the size: corners scaled, then rounded.
        var scaled = Assert.Single(DbPostProcessor.Boxes(map, 64, 48, 128, 96, new DbSettings()));
        Assert.Equal(new Quad(new(9, 29), new(109, 29), new(109, 69), new(9, 69)), scaled.Box);
    }

    [Fact]
    public void RegionsTooThinOrTooFaintAreDropped()
    {
        var map = new float[64 * 48];
        for (int x = 5; x < 60; x++) map[3 * 64 + x] = map[4 * 64 + x] = 0.95f; // two pixel rows: shorter side 1 < 3
        for (int y = 20; y < 30; y++)
        {
            for (int x = 10; x < 50; x++) map[y * 64 + x] = 0.5f; // above the 0.3 threshold, mean below 0.6
        }

        Assert.Empty(DbPostProcessor.Boxes(map, 64, 48, 64, 48, new DbSettings()));
    }

    [Fact]
    public void TheSmallestRectangleAroundATiltedBarLiesAlongIt()
    {
        // A 30 x 8 rectangle turned by atan(3/4): its corners, and the pixel-free case of points on its edges.
        Point u = new(0.8, 0.6), v = new(-0.6, 0.8), origin = new(20, 10);
        var points = new List<Point>();
        for (int i = 0; i <= 30; i++) points.AddRange([origin + u * i, origin + u * i + v * 8]);
        for (int j = 0; j <= 8; j++) points.AddRange([origin + v * j, origin + u * 30 + v * j]);
        var (box, shortSide) = MinAreaRect.Of(points);
        Assert.Equal(8, shortSide, 9);
        Assert.Equal(240, box.Area, 6);
        var expected = new[] { origin, origin + u * 30, origin + u * 30 + v * 8, origin + v * 8 };
        foreach (var corner in expected) Assert.Contains(Enumerable.Range(0, 4), i => (box[i] - corner).Length < 1e-9);
    }

    [Fact]
    public void SyntheticMapGivesPaddleOcrsBoxes()
    {
        // Axis-aligned and tilted bars, a blob, a faint region and specks: every branch of the post-processing.
        const int width = 320, height = 224;
        var map = Tensor.Allocate(DataType.Float32, [height, width]);
        var p = map.Span<float>();
        var random = new Random(7);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double value = random.NextDouble() * 0.1;
                if (x is >= 20 and < 200 && y is >= 16 and < 34) value = 0.85 + random.NextDouble() * 0.1;
                double along = (x - 40) * 0.966 + (y - 60) * 0.259, across = -(x - 40) * 0.259 + (y - 60) * 0.966;
                if (along is >= 0 and < 180 && across is >= 0 and < 16) value = 0.7 + random.NextDouble() * 0.25;
                if ((x - 260) * (x - 260) / 900.0 + (y - 60) * (y - 60) / 144.0 < 1) value = 0.9;
                if (x is >= 20 and < 120 && y is >= 180 and < 200) value = 0.45;
                if (x % 37 == 0 && y % 29 == 0) value = 0.99;
                p[y * width + x] = (float)value;
            }
        }

        AssertSameAsPaddle(map, width, height, width * 2, height * 2);
    }

    [Fact]
    public void RealDetectorMapGivesPaddleOcrsBoxes()
    {
        var files = OcrModelFiles.In(PaddleReference.ModelsFolder);
        var (pages, _) = PageRenderer.Render(DemoText.Pages, TextFont.Find(null), 960, 640, 30);
        var session = InferenceSession.Load(files.Detection);
        var input = ImageTensors.DetectionBatch([pages[1]], 960, 640);
        var maps = session.Run(new Dictionary<string, Tensor> { [session.Inputs[0].Name] = input }).Values.First();
        AssertSameAsPaddle(maps.Reshape([640, 960]), 960, 640, 960, 640);
    }

    private static void AssertSameAsPaddle(Tensor map, int width, int height, int imageWidth, int imageHeight)
    {
        var ours = DetectedLines.Arrange(DbPostProcessor.Boxes(map.Span<float>(), width, height, imageWidth, imageHeight, new DbSettings()), imageWidth, imageHeight);
        var theirs = PaddleReference.Boxes(map, imageWidth, imageHeight);
        Assert.True(theirs.Length >= 3, $"the reference found only {theirs.Length} boxes: the map does not exercise much");
        Assert.Equal(theirs.Length, ours.Count);
        double scaleX = (double)imageWidth / width, scaleY = (double)imageHeight / height;
        for (int b = 0; b < ours.Count; b++)
        {
            for (int c = 0; c < 4; c++)
            {
                // pyclipper truncates the box to whole map pixels before offsetting it (up to a map pixel, which
                // is `scale` image pixels), and each corner is then rounded to an image pixel.
                double dx = Math.Abs(ours[b][c].X - theirs[b].Corners[c][0]), dy = Math.Abs(ours[b][c].Y - theirs[b].Corners[c][1]);
                Assert.True(dx <= scaleX + 1 && dy <= scaleY + 1, $"box {b} corner {c}: ours {ours[b]}, PaddleOCR's ({string.Join(") (", theirs[b].Corners.Select(k => string.Join(",", k)))})");
            }
        }
    }
}
