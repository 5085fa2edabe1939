using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>
/// PaddleOCR's system, end to end: detect lines on whole pages, cut each out upright, turn over the ones the
/// orientation model finds upside down, recognise them in batches of similar width, decode the characters. The
/// models run wherever <paramref name="runner"/> runs them; everything between them runs here.
/// </summary>
internal sealed class OcrPipeline(IOcrModelRunner runner, CtcDecoder decoder, DbSettings settings)
{
    private const int LineHeight = 48;
    private const int OrientationWidth = 192;
    private const int RecognitionWidth = 320;
    private const int RecognitionBatch = 6;
    private const int OrientationBatch = 64;
    private const double TurnOverAbove = 0.9;
    private const double DropBelow = 0.5;

    public async Task<OcrResult> ReadAsync(IReadOnlyList<RgbImage> images)
    {
        var found = await DetectAsync(images).ConfigureAwait(false);
        var crops = found.Select(f => LineCropper.Crop(images[f.Image], f.Box)).ToArray();
        bool[] turned = await OrientAsync(crops).ConfigureAwait(false);
        var read = await RecogniseAsync(crops).ConfigureAwait(false);

        var lines = images.Select(_ => new List<RecognisedLine>()).ToArray();
        int dropped = 0;
        for (int i = 0; i < found.Count; i++)
        {
            if (read[i].Confidence < DropBelow)
            {
                dropped++;
                continue;
            }

            lines[found[i].Image].Add(new RecognisedLine(found[i].Box, read[i].Text, read[i].Confidence, turned[i]));
        }

        return new OcrResult([.. lines], found.Count, turned.Count(t => t), dropped);
    }

    /// <summary>Images of one detection size go through the detector as one batch.</summary>
    private async Task<List<(int Image, Quad Box)>> DetectAsync(IReadOnlyList<RgbImage> images)
    {
        var boxes = new List<Quad>[images.Count];
        var groups = Enumerable.Range(0, images.Count).GroupBy(i => ImageTensors.DetectionSize(images[i].Width, images[i].Height));
        foreach (var group in groups)
        {
            var (width, height) = group.Key;
            int[] members = [.. group];
            var maps = await runner.RunAsync(OcrModel.Detection, ImageTensors.DetectionBatch([.. members.Select(i => images[i])], width, height)).ConfigureAwait(false);
            for (int m = 0; m < members.Length; m++)
            {
                var image = images[members[m]];
                var map = maps.Span<float>().Slice(m * width * height, width * height);
                boxes[members[m]] = DetectedLines.Arrange(DbPostProcessor.Boxes(map, width, height, image.Width, image.Height, settings), image.Width, image.Height);
            }
        }

        return [.. boxes.SelectMany((b, i) => b.Select(q => (i, q)))];
    }

    /// <summary>Which crops the orientation model reads as upside down (with enough confidence); those are turned over in place.</summary>
    private async Task<bool[]> OrientAsync(RgbImage[] crops)
    {
        var turned = new bool[crops.Length];
        for (int start = 0; start < crops.Length; start += OrientationBatch)
        {
            var batch = crops[start..Math.Min(crops.Length, start + OrientationBatch)];
            var scores = await runner.RunAsync(OcrModel.Orientation, ImageTensors.LineBatch(batch, LineHeight, OrientationWidth)).ConfigureAwait(false);
            var p = scores.Span<float>(); // [batch, 2]: P(0°), P(180°)
            for (int i = 0; i < batch.Length; i++)
            {
                if (p[i * 2 + 1] > p[i * 2] && p[i * 2 + 1] > TurnOverAbove)
                {
                    turned[start + i] = true;
                    crops[start + i] = crops[start + i].Rotate180();
                }
            }
        }

        return turned;
    }

    /// <summary>Recognises crops in batches of similar aspect ratio, each padded to its widest line (at least 320 wide).</summary>
    private async Task<(string Text, double Confidence)[]> RecogniseAsync(RgbImage[] crops)
    {
        var read = new (string, double)[crops.Length];
        int[] order = [.. Enumerable.Range(0, crops.Length).OrderBy(i => (double)crops[i].Width / crops[i].Height)];
        for (int start = 0; start < order.Length; start += RecognitionBatch)
        {
            int[] members = order[start..Math.Min(order.Length, start + RecognitionBatch)];
            double widest = members.Max(i => (double)crops[i].Width / crops[i].Height);
            int width = (int)(LineHeight * Math.Max((double)RecognitionWidth / LineHeight, widest));
            Tensor probabilities = await runner.RunAsync(OcrModel.Recognition, ImageTensors.LineBatch([.. members.Select(i => crops[i])], LineHeight, width)).ConfigureAwait(false);
            var decoded = decoder.Decode(probabilities);
            for (int m = 0; m < members.Length; m++) read[members[m]] = decoded[m];
        }

        return read;
    }
}
