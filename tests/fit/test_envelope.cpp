#include "scalinglab/fit/envelope.h"
#include <gtest/gtest.h>
TEST(Envelope, Placeholder) {}
