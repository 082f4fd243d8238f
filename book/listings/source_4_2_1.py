import torch
import torch.nn as nn
import torch.optim as optim

class SourceNet(nn.Module):
    def __init__(self, inner_dim):
        super(SourceNet, self).__init__()
        self.net = nn.Sequential(
            nn.Linear(inner_dim, inner_dim),
            nn.ReLU(),
            nn.Linear(inner_dim, 1)
        )

    def forward(self, x):
        return self.net(x)

# 源任务训练
inner_dim = 10
source_X = torch.randn(100, inner_dim)
source_Y = torch.randn(100, 1)

source_net = SourceNet(inner_dim)
optimizer = optim.Adam(source_net.parameters())
criterion = nn.MSELoss()

for epoch in range(100):
    optimizer.zero_grad()
    z = source_net(source_X)
    loss = criterion(z, source_Y)
    loss.backward()
    optimizer.step()
