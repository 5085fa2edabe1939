using Tessera.Cli.Ocr;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Tests.Cli.Ocr;

/// <summary>CTC decoding: a hand-made case, and PaddleOCR's CTCLabelDecode (numpy) on the real recogniser's outputs.</summary>
public sealed class CtcDecoderTests
{
    [Fact]
    public void RepeatsMergeBlanksSeparateAndTheLastSymbolIsASpace()
    {
        // Symbols: 0 blank, 1 "a", 2 "b", 3 "中", 4 space. Steps' best: a a _ a b b space 中 _ _.
        var decoder = new CtcDecoder(["a", "b", "中"]);
        int[] best = [1, 1, 0, 1, 2, 2, 4, 3, 0, 0];
        float[] top = [0.9f, 0.8f, 0.99f, 0.7f, 0.6f, 0.95f, 0.5f, 0.4f, 0.9f, 0.9f];
        var p = new float[best.Length * 5];
        for (int t = 0; t < best.Length; t++)
        {
            for (int s = 0; s < 5; s++) p[t * 5 + s] = s == best[t] ? top[t] : (1 - top[t]) / 4;
        }

        var (text, confidence) = Assert.Single(decoder.Decode(Tensor.FromArray(p, 1, best.Length, 5)));
        Assert.Equal("aab 中", text);
        Assert.Equal((0.9 + 0.7 + 0.6 + 0.5 + 0.4) / 5, confidence, 6);
    }

    [Fact]
    public void AllBlankReadsAsNothingWithConfidenceZero()
    {
        var decoder = new CtcDecoder(["a"]);
        var (text, confidence) = Assert.Single(decoder.Decode(Tensor.FromArray(new float[] { 0.9f, 0.05f, 0.05f, 0.8f, 0.1f, 0.1f }, 1, 2, 3)));
        Assert.Equal("", text);
        Assert.Equal(0, confidence);
    }

    [Fact]
    public void AnOutputForAnotherDictionaryIsRefused()
    {
        var decoder = new CtcDecoder(["a", "b"]);
        var e = Assert.Throws<Tessera.Cli.Common.CliException>(() => decoder.Decode(Tensor.FromArray(new float[10], 1, 2, 5)));
        Assert.Contains("wrong dictionary", e.Message);
    }

    [Fact]
    public void RecognisersOutputsOnRealLinesDecodeAsPaddleOcrDecodesThem()
    {
        var files = OcrModelFiles.In(PaddleReference.ModelsFolder);
        var (pages, drawn) = PageRenderer.Render(DemoText.Pages, TextFont.Find(null), 960, 640, 30);
        var crops = drawn.Where(l => l.Page == 0 && !l.UpsideDown)
            .Select(l => LineCropper.Crop(pages[0], new Quad(new(l.Left - 4, l.Top - 4), new(l.Right + 4, l.Top - 4), new(l.Right + 4, l.Bottom + 4), new(l.Left - 4, l.Bottom + 4))))
            .ToArray();
        int width = crops.Max(c => ImageTensors.LineWidth(c, 48, int.MaxValue));
        var session = InferenceSession.Load(files.Recognition);
        var probabilities = session.Run(new Dictionary<string, Tensor> { [session.Inputs[0].Name] = ImageTensors.LineBatch(crops, 48, width) }).Values.First();

        var ours = CtcDecoder.Load(files.Dictionary).Decode(probabilities);
        var theirs = PaddleReference.Decode(probabilities, files.Dictionary);
        Assert.Equal(theirs.Select(t => t.Text), ours.Select(o => o.Text));
        for (int i = 0; i < ours.Length; i++) Assert.Equal(theirs[i].Confidence, ours[i].Confidence, 5);
        Assert.Contains("深度学习模型的分布式推理", ours.Select(o => o.Text)); // the lines are real text, read
    }
}
