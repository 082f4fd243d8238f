import torch
from torch.func import hessian, functional_call
from mtl_tutorial import MLP, MetaSGD, SinusoidTasks
from mtl_tutorial.evaluation import query_mse, diverged_tasks
from mtl_tutorial.evaluation.sharpness import _flatten, _unflatten
from mtl_tutorial.adaptation import apply_params, task_loss
from mtl_tutorial.training import seed_everything
torch.set_num_threads(2)
test = SinusoidTasks(support_size=5, query_size=100).sample(600, seed=2017)
for max_rate in (None, 0.05):
    seed_everything(0)
    l = MetaSGD(MLP(), max_rate=max_rate)
    l.fit(SinusoidTasks(), iterations=3000, seed=0, progress=False)
    mse = query_mse(l, test, steps=(0, 10))
    d10 = diverged_tasks(mse[1], mse[0])
    theta, layout = _flatten(dict(l.model.named_parameters()))
    alpha, _ = _flatten(l.learning_rates.as_dict())
    idx = list(torch.nonzero(d10).flatten()[:15]) + list(torch.nonzero(~d10).flatten()[:15])
    for i in idx:
        x, y = test.support_x[i], test.support_y[i]
        H = hessian(lambda f: task_loss(apply_params(l.model, _unflatten(f, layout), x), y))(theta).double()
        mu = torch.linalg.eigvals(alpha.double()[:, None] * H)
        lam = torch.linalg.eigvalsh(H)
        grow = (1 - mu).abs()
        over = mu.real.max().item()
        print(max_rate, "div" if d10[i] else "ok ", f"rho={grow.max().item():.2f} max Re mu={over:.2f} min Re mu={mu.real.min().item():.2f} maxIm={mu.imag.abs().max().item():.2f} lam=[{lam.min().item():.1f},{lam.max().item():.1f}]")
