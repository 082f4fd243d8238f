import torch
import torch.nn as nn
import torch.optim as optim

class MetaNet(nn.Module):
    def __init__(self, inner_dim, outer_dim):
        super(MetaNet, self).__init__()
        self.inner_net = nn.Sequential(
            nn.Linear(inner_dim, inner_dim),
            nn.ReLU(),
            nn.Linear(inner_dim, 1)
        )
        self.outer_net = nn.Sequential(
            nn.Linear(outer_dim, outer_dim),
            nn.ReLU(),
            nn.Linear(outer_dim, inner_dim)
        )

    def forward(self, x, y):
        z = self.inner_net(x)
        alpha = self.outer_net(y).sigmoid()
        return alpha * z

# 内层循环
inner_dim = 10
task_num = 5
train_X = torch.randn(task_num, inner_dim)
train_Y = torch.randn(task_num, inner_dim)

inner_net = MetaNet(inner_dim, inner_dim)
optimizer = optim.Adam(inner_net.parameters())
criterion = nn.MSELoss()

for epoch in range(100):
    optimizer.zero_grad()
    z = inner_net(train_X)
    loss = criterion(z, train_Y)
    loss.backward()
    optimizer.step()

# 外层循环
outer_dim = 5
meta_net = MetaNet(inner_dim, outer_dim)
optimizer = optim.Adam(meta_net.parameters())
criterion = nn.MSELoss()

for epoch in range(100):
    optimizer.zero_grad()
    alpha = meta_net(train_X, train_Y).sigmoid()
    z = alpha * inner_net(train_X)
    loss = criterion(z, train_Y)
    loss.backward()
    optimizer.step()
