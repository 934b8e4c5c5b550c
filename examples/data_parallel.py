"""The DataParallel tutorial: a RandomDataset, a model that reports its input sizes, and
nn.DataParallel splitting each batch over the available devices (on a machine without GPUs
it runs the model as it is).

    python examples/data_parallel.py
"""
import graphc as torch
import graphc.nn as nn
from graphc.utils.data import DataLoader, Dataset

input_size = 5
output_size = 2
batch_size = 30
data_size = 100

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


class RandomDataset(Dataset):
    def __init__(self, size, length):
        self.len = length
        self.data = torch.randn(length, size)

    def __getitem__(self, index):
        return self.data[index]

    def __len__(self):
        return self.len


class Model(nn.Module):
    def __init__(self, input_size, output_size):
        super().__init__()
        self.fc = nn.Linear(input_size, output_size)

    def forward(self, input):
        output = self.fc(input)
        print("\tIn Model: input size", input.size(), "output size", output.size())
        return output


torch.manual_seed(0)
model = nn.DataParallel(Model(input_size, output_size))
example_inputs = (torch.randn(batch_size, input_size),)


def main() -> None:
    if torch.cuda.device_count() > 1:
        print("Let's use", torch.cuda.device_count(), "GPUs!")
    model.to(device)
    loader = DataLoader(RandomDataset(input_size, data_size), batch_size=batch_size, shuffle=True)
    for data in loader:
        input = data.to(device)
        output = model(input)
        print("Outside: input size", input.size(), "output_size", output.size())


if __name__ == "__main__":
    main()
