"""Alt text of every figure in the book: written into each plotting cell's metadata
(``mystnb: image: alt``), which the build puts on the figure's <img>. Rerun after adding a
figure; scripts/check_browser.py fails on a figure whose alt text is missing or a file name.

Usage: python scripts/figure_alt_text.py
"""

from __future__ import annotations

import json
from pathlib import Path

from mtl_tutorial.diagrams import ALT_TEXT

BOOK = Path(__file__).resolve().parent.parent / "book"

#: (notebook, a line of the plotting cell that identifies it) -> alt text
ALT = {
    ("01_background", 'title="Four tasks, and the K = 5 points'):
        "Four sinusoid curves with different amplitudes and phases, each with the five points a "
        "learner sees.",
    ("01_background", "fig = plot_sinusoid_fits(task, (x, y[0]), fits_after_steps(learners"):
        "Fits to one test sinusoid after 1 and 10 gradient steps from scratch, from a pretrained network "
        "and from MAML's initialisation, beside the true curve.",
    ("01_background", 'label="pretraining: MSE of one network on all tasks"'):
        "Training loss against iteration, log scale, for pretraining and for MAML's query loss "
        "after one step.",
    ("02_concepts", 'title="Eight tasks drawn from the sinusoid task distribution"'):
        "Eight sinusoid curves drawn from the task distribution, labelled by amplitude and phase.",
    ("02_concepts", 'title="One episode: test task 0"'):
        "One regression episode: the true sinusoid, its support points and its query points.",
    ("02_concepts", "fig = plot_image_episode(glyph_test.episode(shown)"):
        "One 5-way glyph episode: a row of support images per class, and query images to classify.",
    ("02_concepts", 'title="The same FiLM network, given two different support sets"'):
        "Predictions of one FiLM network for two tasks, each from reading that task's support set, "
        "beside the true functions.",
    ("03_algorithms", 'labels = ("relative error of first-order MAML"'):
        "Two panels against the inner step size: first-order MAML's relative error and its cosine with "
        "the true meta-gradient, for several numbers of inner steps.",
    ("03_from_scratch", 'left.plot(plain_losses, "--", label="plain PyTorch"'):
        "Left: the meta-loss of plain-PyTorch MAML and of the package's MAML over 200 outer steps, one "
        "curve on the other. Right: both, adapted to a test sinusoid, predict the same curve.",
    ("03_methods", 'ylabel="peak tensor memory (KiB)"'):
        "Peak tensor memory against the number of inner steps: it grows for second-order MAML and stays "
        "flat for first-order MAML.",
    ("04_code", "fig = plot_sinusoid_fits("):
        "Fits to a typical test sinusoid after one step, from scratch and from Meta-SGD's learned "
        "initialisation and step sizes, beside the true curve.",
    ("04_images", "fig = plot_accuracy_bars("):
        "Horizontal bars of 5-way glyph accuracy with 95% intervals for each method, at 1 and 5 shots.",
    ("05_trends_meta", 'ax.axhline(THRESHOLD[s], color="0.4"'):
        "Query MSE against seconds of training for MAML and its cheaper variants, after 1 and after 10 "
        "adaptation steps.",
    ("05_trends_meta", "title=\"Meta-SGD's step sizes, by tensor\""):
        "Meta-SGD's learned inner step sizes, one dot per weight, grouped by parameter tensor.",
    ("05_trends_meta", "axes[0].plot(INNER_STEPS, memory, style"):
        "Memory and time of one meta-gradient against inner steps for networks of 1 to 8 hidden layers: "
        "second-order memory grows with steps, first-order memory stays flat.",
    ("05_trends_shift", 'title="Training scripts, nearest first"'):
        "Left: each training script's distance to the test scripts, coloured by the pool it went to. "
        "Right: linear-probe accuracy with 95% intervals after pretraining on near scripts, far scripts, "
        "shuffled pixels and nothing, against lines at no pretraining and at chance.",
    ("05_trends_in_context", 'title=f"K = {k} examples in the input"'):
        "Four panels for one test sinusoid: the in-context transformer's prediction given 1, 2, 5 and 10 "
        "support points, beside the true curve; the prediction approaches the curve as points are added.",
    ("05_trends_transfer", 'title="Accuracy on 200 test episodes (95% interval)"'):
        "Accuracy and gain over the linear probe against the number of parameters trained per task, "
        "for parameter-efficient transfer methods.",
    ("claims", 'plot_claim(results, "data_scarcity")'):
        "Left: query MSE of MAML, fine-tuning and the linear probe against K. Right: MAML's win rate "
        "against each transfer learner against K.",
    ("claims", 'plot_claim(results, "task_dissimilarity")'):
        "Left: query MSE against distance from the training tasks. Right: MAML's win rate against "
        "fine-tuning stays high; against the probe it falls below one half.",
    ("claims", 'plot_seed_advantages(runs, "data_scarcity")'):
        "MAML's win rate against fine-tuning and against the ridge probe as K grows, one line per "
        "training seed with its 95% interval, and the no-advantage line at one half.",
    ("claims", 'plot_seed_advantages(runs, "task_dissimilarity")'):
        "MAML's win rate against fine-tuning and against the ridge probe against distance from the "
        "training tasks, one line per training seed with its 95% interval, and the line at one half.",
    ("claims", "plot_cost(results)"):
        "Validation MSE against training GFLOPs, log scales, for MAML, fine-tuning and the "
        "linear probe, with each pair's matched level as a dashed line.",
    ("claims_images", 'plot_claim(results, "data_scarcity")'):
        "Left: glyph accuracy of Prototypical Networks, the linear probe and fine-tuning against K. "
        "Right: Prototypical Networks' accuracy gain over each transfer learner against K.",
    ("claims_images", 'plot_claim(results, "task_dissimilarity")'):
        "Left: accuracy on each held-out script against its distance from the training scripts. "
        "Right: Prototypical Networks' gain over each transfer learner by script.",
    ("claims_images", 'plot_seed_advantages(runs, "task_dissimilarity")'):
        "Prototypical Networks' accuracy gain over the linear probe and over fine-tuning on each "
        "held-out script against its distance, one line per training seed with its 95% interval.",
    ("claims_images", "plot_cost(results)"):
        "Validation accuracy against training GFLOPs (log scale) for Prototypical Networks and the two "
        "transfer learners, with each pair's matched level as a dashed line.",
    ("full_scale_results", 'display(Image(filename=str(RESULTS / "sinusoid.png")))'):
        "Query MSE against adaptation steps for every learner at full scale, with the MAML paper's "
        "numbers for MAML and the pretrained baseline.",
}  # fmt: skip


# the package's concept figures carry their own alt text (mtl_tutorial.diagrams.ALT_TEXT)
CONCEPT_FIGURES = {
    ("02_concepts", "diagrams.plot_episode("): "plot_episode",
    ("02_concepts", "diagrams.plot_transfer_vs_meta("): "plot_transfer_vs_meta",
    ("03_algorithms", "diagrams.plot_maml_loops("): "plot_maml_loops",
    ("03_algorithms", "diagrams.plot_maml_geometry("): "plot_maml_geometry",
    ("03_methods", "diagrams.plot_protonet_embedding("): "plot_protonet_embedding",
}
ALT.update({place: ALT_TEXT[name] for place, name in CONCEPT_FIGURES.items()})


def main() -> int:
    used = set()
    for path in sorted(BOOK.glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        changed = False
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for (name, marker), alt in ALT.items():
                if name == path.stem and marker in source:
                    used.add((name, marker))
                    image = cell["metadata"].setdefault("mystnb", {}).setdefault("image", {})
                    if image.get("alt") != alt:
                        image["alt"] = alt
                        changed = True
        if changed:
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            print(f"alt text written: {path.name}")
    unused = set(ALT) - used
    for name, marker in sorted(unused):
        print(f"error: no cell of {name}.ipynb contains {marker!r}")
    return 1 if unused else 0


if __name__ == "__main__":
    raise SystemExit(main())
