import torch
import torch.nn as nn
import torch.optim as optim

class TargetNet(nn.Module):
    def __init__(self, inner_dim):
        super(TargetNet, self).__init__()
        self.net = nn.Sequential(
            nn.Linear(inner_dim, inner_dim),
            nn.ReLU(),
            nn.Linear(inner_dim, 1)
        )

    def forward(self, x):
        return self.net(x)

# 目标任务微调
inner_dim = 10
target_X = torch.randn(50, inner_dim)
target_Y = torch.randn(50, 1)

target_net = TargetNet(inner_dim)
optimizer = optim.Adam(target_net.parameters())
criterion = nn.MSELoss()

for epoch in range(100):
    optimizer.zero_grad()
    z = target_net(target_X)
    loss = criterion(z, target_Y)
    loss.backward()
    optimizer.step()
