#include "evaluation/batches.h"

#include <cstring>

#include "imx/data/loader.hpp"
#include "engine/progress.h"

namespace imx::eval {

int64_t resize_for(const data::Dataset& d, int64_t size) {
  if (d.height == size && d.width == size) return 0;
  // dim-train resizes only STL-10's 96×96 to 64×64; anything else is the wrong data set.
  check(d.height == 96 && d.width == 96 && size == 64, "dim-eval",
        d.name + " holds " + std::to_string(d.height) + "x" + std::to_string(d.width) + " images; the encoder takes " +
            std::to_string(size) + "x" + std::to_string(size));
  return size;
}

void for_each_batch(const data::Dataset& d, const BatchOptions& o,
                    const std::function<void(const Tensor&, const std::vector<int32_t>&)>& fn) {
  data::LoaderOptions lo;
  lo.batch_size = static_cast<size_t>(o.batch);
  lo.shuffle = false;
  lo.drop_last = o.drop_last;
  lo.augment.resize_to = static_cast<int>(o.resize_to);
  data::Loader loader(d, lo);
  tools::Progress progress(o.progress_label, static_cast<long>(loader.batches_per_epoch()), o.progress_seconds);
  long done = 0;
  double images = 0;
  while (auto b = loader.next()) {
    Tensor x = Tensor::empty({b->n, b->c, b->h, b->w});
    std::memcpy(x.raw(), b->images.data(), x.nbytes());
    fn(o.device == Device::CPU ? x : x.to(o.device), b->labels);
    images += b->n;
    if (!o.progress_label.empty()) progress.update(++done, images);
  }
}

}  // namespace imx::eval
